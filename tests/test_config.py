"""Settings precedence (CLI > env > config file > default) and the config file itself."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lmgnn.config import DEFAULT_URI, load_settings, read_config_file, remember_password
from lmgnn.errors import UserError


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("LMGNN_CONFIG", str(path))
    for env in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE",
                "LMGNN_NEO4J_DATA_DIR", "LMGNN_NEO4J_HTTP_PORT"):
        monkeypatch.delenv(env, raising=False)
    return path


def test_defaults_without_file_or_env(config_file: Path) -> None:
    s = load_settings()
    assert (s.uri, s.user, s.password, s.database) == (DEFAULT_URI, "neo4j", None, "neo4j")
    assert s.sources == {}


def test_precedence_cli_over_env_over_file(config_file: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('[neo4j]\nuri = "bolt://127.0.0.1:1111"\nuser = "file-user"\n'
                           'password = "file-pass"\ndatabase = "filedb"\n')
    s = load_settings()
    assert (s.uri, s.user, s.password, s.database) == (
        "bolt://127.0.0.1:1111", "file-user", "file-pass", "filedb")
    assert s.sources["uri"].startswith("config file")

    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:2222")
    monkeypatch.setenv("NEO4J_PASSWORD", "env-pass")
    s = load_settings()
    assert (s.uri, s.user, s.password) == ("bolt://127.0.0.1:2222", "file-user", "env-pass")
    assert s.sources["password"] == "environment NEO4J_PASSWORD"

    s = load_settings(uri="bolt://127.0.0.1:3333", user=None)
    assert (s.uri, s.user) == ("bolt://127.0.0.1:3333", "file-user")
    assert s.sources["uri"] == "command line"


def test_password_never_in_repr(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-value")
    assert "s3cret-value" not in repr(load_settings())


def test_unknown_config_key_is_rejected(config_file: Path) -> None:
    config_file.write_text('[neo4j]\npasword = "typo"\n')
    with pytest.raises(UserError, match=r"unknown key\(s\) \['pasword'\]"):
        read_config_file()


def test_invalid_toml_names_the_file(config_file: Path) -> None:
    config_file.write_text("[neo4j\n")
    with pytest.raises(UserError, match="is not valid TOML") as err:
        load_settings()
    assert str(config_file) in str(err.value)


def test_bad_integer_setting(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMGNN_NEO4J_HTTP_PORT", "seventy")
    with pytest.raises(UserError, match="http_port must be an integer"):
        load_settings()


def test_remembered_password_is_private_and_keeps_other_keys(config_file: Path) -> None:
    config_file.write_text('[neo4j]\nuri = "bolt://127.0.0.1:4444"\n')
    remember_password("generated-pw")
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    s = load_settings()
    assert (s.uri, s.password) == ("bolt://127.0.0.1:4444", "generated-pw")

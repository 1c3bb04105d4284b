"""Connection and server settings, resolved once: CLI flag > environment > config file > default.

The config file is TOML (``LMGNN_CONFIG`` or ``~/.config/lmgnn/config.toml``) with a
``[neo4j]`` table whose keys are the environment names in lower case without the prefix, e.g.::

    [neo4j]
    uri = "bolt://127.0.0.1:7687"
    password = "..."

Passwords never appear in ``repr`` output or logs.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from lmgnn.errors import UserError

DEFAULT_URI = "bolt://127.0.0.1:7687"

# setting name -> environment variable
ENV_NAMES = {
    "uri": "NEO4J_URI",
    "user": "NEO4J_USER",
    "password": "NEO4J_PASSWORD",
    "database": "NEO4J_DATABASE",
    "data_dir": "LMGNN_NEO4J_DATA_DIR",
    "http_port": "LMGNN_NEO4J_HTTP_PORT",
    "heap": "LMGNN_NEO4J_HEAP",
}


def config_path() -> Path:
    """Where the config file lives (it need not exist)."""
    env = os.environ.get("LMGNN_CONFIG")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "lmgnn" / "config.toml"


def default_data_dir() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "lmgnn" / "neo4j"


@dataclass(frozen=True)
class Settings:
    """Where Neo4j is and how to log in; plus where `lmgnn db start` keeps a local server."""

    uri: str = DEFAULT_URI
    user: str = "neo4j"
    password: str | None = field(default=None, repr=False)
    database: str = "neo4j"
    data_dir: Path = field(default_factory=default_data_dir)
    http_port: int = 7474
    heap: str = "1g"
    # which source each value came from, for `db status` and error messages
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def bolt_host_port(self) -> tuple[str, int]:
        rest = self.uri.split("://", 1)[-1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        if not host:
            return rest, 7687
        try:
            return host.strip("[]"), int(port)
        except ValueError as exc:
            raise UserError(f"NEO4J_URI {self.uri!r} has no valid port") from exc

    @property
    def is_local(self) -> bool:
        return self.bolt_host_port[0] in {"127.0.0.1", "localhost", "::1"}

    def with_password(self, password: str, source: str) -> Settings:
        return replace(self, password=password, sources={**self.sources, "password": source})


def _coerce(name: str, value: object) -> object:
    kind = next(f.type for f in fields(Settings) if f.name == name)
    if "Path" in str(kind):
        return Path(str(value)).expanduser()
    if "int" in str(kind):
        try:
            return int(value if isinstance(value, int | str) else str(value))
        except (TypeError, ValueError) as exc:
            raise UserError(f"setting {name} must be an integer, got {value!r}") from exc
    return str(value)


def read_config_file(path: Path | None = None) -> dict[str, object]:
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"config file {path} is not valid TOML: {exc}") from exc
    table = data.get("neo4j", {})
    if not isinstance(table, dict):
        raise UserError(f"config file {path}: [neo4j] must be a table")
    unknown = set(table) - set(ENV_NAMES)
    if unknown:
        raise UserError(
            f"config file {path}: unknown key(s) {sorted(unknown)} in [neo4j]; "
            f"known keys: {sorted(ENV_NAMES)}"
        )
    return table


def load_settings(**overrides: object) -> Settings:
    """Resolve settings: explicit overrides (CLI flags; None = not given) > env > file > default."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    path = config_path()
    for name, value in read_config_file(path).items():
        values[name], sources[name] = _coerce(name, value), f"config file {path}"
    for name, env in ENV_NAMES.items():
        if os.environ.get(env):
            values[name], sources[name] = _coerce(name, os.environ[env]), f"environment {env}"
    for name, value in overrides.items():
        if name not in ENV_NAMES:
            raise TypeError(f"unknown setting {name}")
        if value is not None:
            values[name], sources[name] = _coerce(name, value), "command line"
    return Settings(**values, sources=sources)  # type: ignore[arg-type]


def remember_password(password: str, path: Path | None = None) -> Path:
    """Store a generated password in the config file (mode 0600), keeping its other keys."""
    path = path or config_path()
    table = read_config_file(path)
    table["password"] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["[neo4j]"] + [f"{k} = {_toml_str(str(v))}" for k, v in sorted(table.items())]
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def new_password() -> str:
    return secrets.token_urlsafe(18)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

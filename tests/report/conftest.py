"""Two real, tiny training runs, trained once per test module: their run directories are
what the report reads (see cli_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmgnn.config import Settings

from .cli_runs import ENV_KEYS, ShopRuns, train_shop


@pytest.fixture(scope="module")
def shop_runs(neo4j_settings: Settings, tiny_lm_dir: Path,
              tmp_path_factory: pytest.TempPathFactory) -> ShopRuns:
    return train_shop(neo4j_settings, tiny_lm_dir, tmp_path_factory.mktemp("report_runs"))


@pytest.fixture
def runs_env(shop_runs: ShopRuns, monkeypatch: pytest.MonkeyPatch) -> ShopRuns:
    """The module's runs, with the environment pointing `lmgnn` at the test server."""
    for key in ENV_KEYS:
        monkeypatch.setenv(key, shop_runs.env[key])
    return shop_runs

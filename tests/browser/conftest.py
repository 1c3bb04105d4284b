"""A real browser for the tests in this folder: Debian's headless Chromium driven by Playwright
(its own browser download is not reachable here, so it gets the system executable).

Skipped, with the reason, where /usr/bin/chromium or the playwright package is missing;
`.ci/run` installs both. The graph these tests look at is built once for the folder: a small
synthetic shop, two tiny training runs and the link run's predicted links written back.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lmgnn.config import Settings

from ..report.cli_runs import ShopRuns, invoke, train_shop

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed: pip install -e '.[dev]'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page in a fresh context: no stored Browser credentials or style."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="package")
def browser_shop(chromium: Any, neo4j_settings: Settings, tiny_lm_dir: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> ShopRuns:
    """Trained once for the folder (after the browser is known to exist): both runs, and the
    link run's top-3 predicted purchases per query written back."""
    shop = train_shop(neo4j_settings, tiny_lm_dir, tmp_path_factory.mktemp("browser_runs"))
    invoke(["writeback", "--run", shop.link.name, "--top-k", "3", "--no-embeddings",
            "--runs-dir", str(shop.root)], shop.env)
    return shop

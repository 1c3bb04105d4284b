"""The HTML report in a real browser: it renders, every image loads, and every number on the
page is the one in the run's metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lmgnn.report import load_predictions, save_eval_predictions

from ..report.cli_runs import ShopRuns, invoke
from ..report.run_dirs import jsonl


def ensure_predictions(shop: ShopRuns) -> None:
    """Test predictions for both runs, unless the trainer saved its own."""
    rng = np.random.default_rng(0)
    if load_predictions(shop.node, "test") is None:
        classes = json.loads((shop.node / "config.json").read_text())["classes"]
        save_eval_predictions(shop.node, "test", y=rng.integers(0, len(classes), 80),
                              probs=rng.dirichlet(np.ones(len(classes)), 80))
    if load_predictions(shop.link, "test") is None:
        save_eval_predictions(shop.link, "test", pos=rng.normal(1, 1, 60),
                              neg=rng.normal(0, 1, (60, 20)))


@pytest.mark.parametrize("which", ["node", "link", "both"])
def test_report_renders_with_its_images_and_the_runs_numbers(page, browser_shop,
                                                            which) -> None:
    ensure_predictions(browser_shop)
    runs = {"node": [browser_shop.node], "link": [browser_shop.link],
            "both": [browser_shop.node, browser_shop.link]}[which]
    out = invoke(["report", *map(str, runs), "--no-record"], browser_shop.env)
    index = next(w for w in out.replace("\n", "").split() if w.endswith("index.html"))
    page.goto(f"file://{index}")
    page.wait_for_load_state("load")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.dataset.file, e.complete, e.naturalWidth])")
    folder = Path(index).parent
    assert sorted(f for f, _, _ in images) == sorted(p.name for p in folder.glob("*.png"))
    assert len(images) >= {"node": 3, "link": 3, "both": 8}[which]
    assert all(complete and width > 0 for _, complete, width in images), images
    for summary in page.locator("details > summary").all():  # open the epoch tables
        summary.click()
    cells = page.eval_on_selector_all(
        "[data-metric]", "els => els.map(e => ({...e.dataset, text: e.innerText}))")
    rows = {r.name: jsonl(r / "metrics.jsonl") for r in runs}
    checked = 0
    for cell in cells:
        run_rows = rows[cell["run"]]
        row = run_rows[int(cell["line"]) - 1] if "line" in cell else next(
            r for r in reversed(run_rows) if r["stage"] == "final"
            and r["split"] == cell["split"])
        assert float(cell["text"]) == pytest.approx(row[cell["metric"]], abs=5e-5), cell
        checked += 1
    epochs = sum(1 for r in rows.values() for row in r if row["stage"] != "final")
    assert checked > 2 * epochs  # at least loss and seconds of every epoch

"""`lmgnn report` and `lmgnn runs --sort --compare` on real, tiny training runs."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from lmgnn.report import save_eval_predictions

from .cli_runs import ShopRuns, invoke
from .run_dirs import jsonl, parse


def model_run(shop: ShopRuns, run_id: str, neo4j_driver, database: str) -> dict:
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (r:ModelRun {run_id: $id}) RETURN properties(r) AS p", id=run_id,
        database_=database)
    assert records, f"no (:ModelRun) for {run_id}"
    return dict(records[0]["p"])


def test_report_of_a_trained_run_shows_its_metrics_and_is_recorded(
        runs_env, neo4j_driver, neo4j_settings) -> None:
    run = runs_env.node
    out = invoke(["report", run.name, "--runs-dir", str(runs_env.root)], runs_env.env)
    index = run / "report" / "index.html"
    assert f"report {index}" in out.replace("\n", "")
    stages = [r["stage"] for r in jsonl(run / "metrics.jsonl") if r["stage"] != "final"]
    assert len(set(stages)) == 3  # lm_links, gnn, joint: one curve each
    rows = jsonl(run / "metrics.jsonl")
    finals = {r["split"]: r for r in rows if r["stage"] == "final"}
    cells = parse(index).cells
    assert {c["data-metric"] for c in cells if "data-split" in c} >= {"acc", "macro_f1"}
    for cell in cells:
        expected = (rows[int(cell["data-line"]) - 1] if "data-line" in cell
                    else finals[cell["data-split"]])[cell["data-metric"]]
        assert float(cell["text"]) == pytest.approx(expected, abs=5e-5), cell
    assert "No per-item test predictions in" in index.read_text()
    props = model_run(runs_env, run.name, neo4j_driver, neo4j_settings.database)
    assert props["report"] == str(index.resolve())


def test_saved_predictions_of_a_real_run_give_confusion_and_calibration(runs_env) -> None:
    run = runs_env.node
    classes = json.loads((run / "config.json").read_text())["classes"]
    rng = np.random.default_rng(0)
    y = rng.integers(0, len(classes), 120)
    probs = rng.dirichlet(np.ones(len(classes)), 120)
    save_eval_predictions(run, "test", y=y, probs=probs)
    try:
        invoke(["report", str(run), "--no-record"], runs_env.env)
        page = (run / "report" / "index.html").read_text()
        assert "120 labelled test items" in page
        assert all(f">{html.escape(c)}<" in page for c in classes)  # per-class rows by name
        assert (run / "report" / "confusion.png").is_file()
        assert (run / "report" / "reliability.png").is_file()
    finally:
        (run / "predictions" / "test.npz").unlink()


def test_comparison_of_two_runs_is_recorded_on_both(runs_env, neo4j_driver,
                                                    neo4j_settings) -> None:
    out = invoke(["report", runs_env.node.name, runs_env.link.name, "--runs-dir",
                  str(runs_env.root)], runs_env.env)
    folders = list((runs_env.root / "compare").iterdir())
    assert len(folders) == 1 and str(folders[0] / "index.html") in out.replace("\n", "")
    for run in (runs_env.node, runs_env.link):
        props = model_run(runs_env, run.name, neo4j_driver, neo4j_settings.database)
        assert props["compare_report"] == str((folders[0] / "index.html").resolve())


def test_without_a_server_the_report_is_written_and_says_it_is_not_recorded(
        runs_env, tmp_path) -> None:
    env = {**runs_env.env, "NEO4J_URI": "bolt://127.0.0.1:9"}
    out = invoke(["report", str(runs_env.link), "--out", str(tmp_path / "r")], env)
    assert (tmp_path / "r" / "index.html").is_file()
    assert "not recorded on (:ModelRun)" in out and "no Neo4j at bolt://127.0.0.1:9" in out


def test_runs_sorted_by_a_metric_side_by_side(runs_env) -> None:
    node, link = runs_env.node.name, runs_env.link.name
    out = invoke(["runs", "--sort", "mrr", "--compare"], runs_env.env)
    header = next(line for line in out.splitlines() if node in line or link in line)
    assert header.index(link) < header.index(node)  # only the link run has test_mrr
    assert re.search(r"test_mrr\s+\W\s*0\.\d{4}\s+\W\s+\W", out), out  # a value, then none
    out = invoke(["runs", "--sort", "test_acc", "--compare"], runs_env.env)
    header = next(line for line in out.splitlines() if node in line or link in line)
    assert header.index(node) < header.index(link)
    listing = invoke(["runs", "--sort", "acc"], runs_env.env)
    lines = [line for line in listing.splitlines() if node in line or link in line]
    assert node in lines[0] and link in lines[1]


def test_sorting_by_an_unknown_metric_is_one_clear_error(runs_env) -> None:
    out = invoke(["runs", "--sort", "accuracy"], runs_env.env, code=1)
    assert "no run has metric 'accuracy'; recorded: test_acc" in out

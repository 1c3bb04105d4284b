"""`lmgnn report` and `lmgnn runs --sort --compare` on real, tiny training runs."""

from __future__ import annotations

import html
import json
import re

import pytest

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
    assert f"report {index}" in out
    rows = jsonl(run / "metrics.jsonl")
    assert len({r["stage"] for r in rows if r["stage"] != "final"}) == 3  # a curve per stage
    finals = {r["split"]: r for r in rows if r["stage"] == "final"}
    cells = parse(index).cells
    assert {c["data-metric"] for c in cells if "data-split" in c} >= {"acc", "macro_f1"}
    for cell in cells:
        expected = (rows[int(cell["data-line"]) - 1] if "data-line" in cell
                    else finals[cell["data-split"]])[cell["data-metric"]]
        assert float(cell["text"]) == pytest.approx(expected, abs=5e-5), cell
    props = model_run(runs_env, run.name, neo4j_driver, neo4j_settings.database)
    assert props["report"] == str(index.resolve())


def test_the_trainers_predictions_agree_with_its_final_metrics(runs_env) -> None:
    """The per-item plots come from predictions/test.npz; what the page computes from it is
    what the trainer measured (accuracy, MRR), so the plots show the evaluated model."""
    node, link = runs_env.node, runs_env.link
    invoke(["report", str(node), "--no-record"], runs_env.env)
    invoke(["report", str(link), "--no-record"], runs_env.env)
    test = {r: next(x for x in jsonl(r / "metrics.jsonl")
                    if x["stage"] == "final" and x["split"] == "test") for r in (node, link)}
    page = (node / "report" / "index.html").read_text()
    found = re.search(r"([\d,]+) labelled test items; accuracy (\d\.\d{4})", page)
    assert found, "no per-item section: did the trainer stop saving predictions/test.npz?"
    assert int(found.group(1).replace(",", "")) == test[node]["count"]
    assert float(found.group(2)) == pytest.approx(test[node]["acc"], abs=1e-4)
    classes = json.loads((node / "config.json").read_text())["classes"]
    assert all(f">{html.escape(c)}<" in page for c in classes)  # per-class rows by name
    assert {p.name for p in (node / "report").glob("*.png")} == {
        "curves.png", "confusion.png", "reliability.png"}
    page = (link / "report" / "index.html").read_text()
    found = re.search(r"([\d,]+) test pairs, each ranked against 20 sampled negatives; MRR "
                      r"(\d\.\d{4})", page)
    assert found, page[-2000:]
    assert int(found.group(1).replace(",", "")) == test[link]["count"]
    assert float(found.group(2)) == pytest.approx(test[link]["mrr"], abs=1e-4)
    assert {p.name for p in (link / "report").glob("*.png")} == {
        "curves.png", "scores.png", "hits.png"}


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

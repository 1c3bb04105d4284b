"""The report from run directories alone: files, numbers, errors, re-runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.models.metrics import ranks as torch_ranks
from lmgnn.report import build_report, evaluate, load_predictions, read_run, resolve_run
from lmgnn.report.predictions import save_eval_predictions

from .run_dirs import CLASSES, jsonl, parse, write_run


def test_node_report_numbers_equal_metrics_jsonl(tmp_path) -> None:
    run = write_run(tmp_path, "20261201-100000-lmgnn-aaaaaa")
    report = build_report([run])
    assert report.path == run / "report" / "index.html"
    assert sorted(p.name for p in report.images) == ["confusion.png", "curves.png",
                                                      "reliability.png"]
    for png in report.images:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = parse(report.path)
    assert len(page.images) == 3 and all(i["src"].startswith("data:image/png;base64,")
                                         for i in page.images)
    rows = jsonl(run / "metrics.jsonl")
    finals = {r["split"]: r for r in rows if r["stage"] == "final"}
    checked = 0
    for cell in page.cells:
        if "data-line" in cell:
            expected = rows[int(cell["data-line"]) - 1][cell["data-metric"]]
        else:
            expected = finals[cell["data-split"]][cell["data-metric"]]
        assert float(cell["text"]) == pytest.approx(expected, abs=5e-5), cell
        checked += 1
    # 2 final metrics x 2 splits; 6 validated epochs x (loss, seconds, valid_acc,
    # valid_count); the lm_links epoch's loss and seconds
    assert checked == 4 + 6 * 4 + 2


def test_per_class_scores_and_calibration_match_a_direct_count(tmp_path) -> None:
    run = write_run(tmp_path, "r1")
    p = load_predictions(run, "test")
    assert p is not None and p.kind == "classification"
    y, probs = p["y"], p["probs"]
    pred = probs.argmax(1)
    matrix = evaluate.confusion(y, probs)
    assert matrix.sum() == len(y) and np.trace(matrix) == int((pred == y).sum())
    scores = evaluate.class_scores(matrix)
    for c in range(len(CLASSES)):
        tp = int(((pred == c) & (y == c)).sum())
        assert scores.precision[c] == pytest.approx(tp / int((pred == c).sum()))
        assert scores.recall[c] == pytest.approx(tp / int((y == c).sum()))
    cal = evaluate.calibration(y, probs, bins=10)
    assert cal.count.sum() == len(y)
    conf = probs.max(1)
    top = conf > 0.9
    assert cal.count[9] == int(top.sum())
    assert cal.accuracy[9] == pytest.approx(float((pred[top] == y[top]).mean()))
    gaps = [abs(float((pred[m] == y[m]).mean()) - float(conf[m].mean())) * m.sum()
            for m in (((conf > lo) & (conf <= lo + 0.1)) for lo in np.arange(0, 1, 0.1))
            if m.sum()]
    assert cal.ece == pytest.approx(sum(gaps) / len(y), abs=1e-6)


def test_unlabelled_items_are_ignored() -> None:
    y = np.array([0, -1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]], dtype=np.float32)
    assert evaluate.confusion(y, probs).tolist() == [[1, 0], [1, 1]]


def test_ranks_match_the_trainers_metric_with_ties_and_nan() -> None:
    rng = np.random.default_rng(1)
    pos = rng.integers(0, 4, 64).astype(np.float32)
    neg = rng.integers(0, 4, (64, 9)).astype(np.float32)  # many ties
    pos[3], neg[5, 2] = np.nan, np.nan
    ours = evaluate.ranks(pos, neg)
    theirs = torch_ranks(torch.from_numpy(pos), torch.from_numpy(neg)).numpy()
    assert np.array_equal(ours, theirs)
    ks, hits = evaluate.hits_curve(ours, 10)
    assert hits[0] == pytest.approx(float((ours <= 1).mean())) and hits[-1] == 1.0
    assert list(ks) == list(range(1, 11)) and np.all(np.diff(hits) >= 0)


def test_link_report_has_score_and_hits_plots(tmp_path) -> None:
    run = write_run(tmp_path, "r-link", kind="link")
    report = build_report([run])
    assert sorted(p.name for p in report.images) == ["curves.png", "hits.png", "scores.png"]
    text = report.path.read_text()
    assert "200 test pairs, each ranked against 30 sampled negatives" in text


def test_without_predictions_the_report_says_what_is_missing(tmp_path) -> None:
    run = write_run(tmp_path, "r-bare", predictions=False)
    report = build_report([run])
    assert [p.name for p in report.images] == ["curves.png"]
    assert "No per-item test predictions in" in report.path.read_text()


def test_comparison_is_one_page_with_every_run(tmp_path) -> None:
    a = write_run(tmp_path, "20261201-100000-lmgnn-aaaaaa", seed=0)
    b = write_run(tmp_path, "20261201-100100-lmgnn-bbbbbb", seed=1)
    c = write_run(tmp_path, "20261201-100200-gnn-cccccc", kind="link", seed=2)
    report = build_report([a, b, c])
    assert report.folder.parent == tmp_path / "compare"
    names = {p.name for p in report.images}
    assert {"compare-valid_acc.png", "compare-valid_mrr.png", "1-confusion.png",
            "3-hits.png"} <= names
    page = parse(report.path)
    runs_in_table = {cell["data-run"] for cell in page.cells}
    assert runs_in_table == {a.name, b.name, c.name}
    assert "hidden" in report.path.read_text()  # the option that differs between runs


def test_rerun_replaces_the_report_whole(tmp_path) -> None:
    run = write_run(tmp_path, "r1", predictions=False)
    build_report([run])
    (run / "report" / "stale.png").write_bytes(b"old")
    save_eval_predictions(run, "test", pos=np.ones(5), neg=np.zeros((5, 3)))
    report = build_report([run])
    assert sorted(p.name for p in report.images) == ["curves.png", "hits.png", "scores.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r1"]  # no temp folders left
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "metrics.jsonl",
                                                      "predictions", "report", "stages.json",
                                                      "summary.json"]


def test_a_bad_metrics_line_names_file_and_line(tmp_path) -> None:
    run = write_run(tmp_path, "r1")
    with (run / "metrics.jsonl").open("a") as f:
        f.write('{"stage": "final", "split": \n')
    with pytest.raises(UserError, match=r"metrics\.jsonl, line 10: not valid JSON"):
        read_run(run)
    assert not (run / "report").exists()


def test_bad_prediction_arrays_are_refused_before_writing(tmp_path) -> None:
    with pytest.raises(UserError, match=r"test\.npz: expected y \(N,\) and probs \(N, C\)"):
        save_eval_predictions(tmp_path, "test", y=np.zeros(3), probs=np.zeros((4, 2)))
    with pytest.raises(UserError, match=r"field 'y' holds class ids outside -1\.\.1"):
        save_eval_predictions(tmp_path, "test", y=np.array([0, 2]), probs=np.zeros((2, 2)))
    with pytest.raises(UserError, match="got pos, probs"):
        save_eval_predictions(tmp_path, "test", pos=np.zeros(2), probs=np.zeros((2, 2)))
    assert not (tmp_path / "predictions").exists()


def test_tensors_on_any_device_are_saved_as_arrays(tmp_path) -> None:
    path = save_eval_predictions(tmp_path, "valid", y=torch.tensor([1, 0]),
                                 probs=torch.tensor([[0.2, 0.8], [0.6, 0.4]],
                                                    dtype=torch.bfloat16))
    p = load_predictions(tmp_path, "valid")
    assert path.name == "valid.npz" and p is not None
    assert p["y"].dtype == np.int64 and p["probs"].dtype == np.float32
    assert p["probs"][0, 1] == pytest.approx(0.8, abs=0.01)


def test_runs_are_named_by_id_folder_or_latest(tmp_path) -> None:
    old = write_run(tmp_path, "20261201-090000-gnn-aaaaaa", predictions=False)
    new = write_run(tmp_path, "20261201-100000-gnn-bbbbbb", predictions=False)
    assert resolve_run("latest", tmp_path) == new
    assert resolve_run(old.name, tmp_path) == old
    assert resolve_run(str(old), tmp_path / "elsewhere") == old
    with pytest.raises(UserError, match=r"no run 'nope' in .*runs there: 20261201-090000"):
        resolve_run("nope", tmp_path)

"""Runs trained for real (tiny random BERT, one epoch), written back and read with Cypher: the
graph holds exactly what the reloaded model predicts in memory."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.train import TrainConfig, train
from lmgnn.writeback import queries
from lmgnn.writeback.inference import class_probabilities, load_run, node_representations
from lmgnn.writeback.naming import run_key
from lmgnn.writeback.pipeline import WritebackOptions, predict_new, writeback


def train_run(db, tiny_lm_dir, runs, task: str, method: str = "gnn") -> str:
    target = {"node": "Product.category", "link": "PURCHASED", "edge": "PURCHASED"}[task]
    config = TrainConfig(method=method, task=task, target=target, lm_path=str(tiny_lm_dir),
                         max_length=16, hidden=16, epochs=1, lm_epochs=1, joint_epochs=1,
                         batch_size=32, lm_batch_size=16,
                         fanout=5, num_negatives=8, eval_negatives=20, device="cpu")
    return train(config, db.driver, db.database, runs).run_id


def graph_predictions(db, run_id: str) -> dict[int, tuple[str, float, list[float]]]:
    key = run_key(run_id)
    rows = db.run(f"MATCH (p:Product) RETURN p._nid AS nid, p.`pred_category__{key}` AS pred, "
                  f"p.`prob_category__{key}` AS prob, p.`emb__{key}` AS emb")
    return {r["nid"]: (r["pred"], r["prob"], r["emb"]) for r in rows}


def test_writeback_writes_what_the_model_predicts_and_a_rerun_changes_nothing(
        trainshop, tiny_lm_dir, tmp_path):
    db, runs = trainshop, tmp_path / "runs"
    run_id = train_run(db, tiny_lm_dir, runs, "node")
    result = CliRunner().invoke(app, ["writeback", "--run", run_id, "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    loaded = load_run(db.driver, db.database, runs, run_id, device="cpu")
    expected = {}
    for nids, h in node_representations(loaded, "Product", torch.arange(60)):
        probs = class_probabilities(loaded, h)
        for nid, p, vec in zip(nids.tolist(), probs, h, strict=True):
            expected[nid] = (loaded.classes[int(p.argmax())], float(p.max()), vec.tolist())
    got = graph_predictions(db, run_id)
    assert sorted(got) == list(range(60))
    for nid, (pred, prob, emb) in expected.items():
        assert got[nid][0] == pred
        assert got[nid][1] == pytest.approx(prob, abs=1e-6)
        assert got[nid][2] == pytest.approx(emb, abs=1e-5)
    before = db.run("MATCH (o:LmgnnOutput) RETURN o.id AS id, o.count AS n ORDER BY id")
    assert [r["n"] for r in before] == [60, 30, 60]  # Product emb, Query emb, classes
    writeback(db.driver, db.database, runs, run_id, WritebackOptions(device="cpu"),
              progress=False, loaded=loaded)
    assert graph_predictions(db, run_id) == got
    assert db.run("MATCH (o:LmgnnOutput) RETURN o.id AS id, o.count AS n ORDER BY id") == before
    _, rows = queries.run_query(db.driver, db.database, "accuracy_by_class")
    assert sum(r["nodes"] for r in rows) == 60


def test_predict_scores_a_product_added_after_training_without_retraining(
        trainshop, tiny_lm_dir, tmp_path):
    db, runs = trainshop, tmp_path / "runs"
    run_id = train_run(db, tiny_lm_dir, runs, "node")
    writeback(db.driver, db.database, runs, run_id, WritebackOptions(device="cpu"),
              progress=False)
    before = graph_predictions(db, run_id)
    db.run("CREATE (:Product {_nid: 60, product_id: 'p60', title: 'atlas item new', "
           "category: 'books'})")
    db.run("CREATE (:Query {_nid: 30, query_id: 'q30', text: 'atlas please'})")
    db.run("MATCH (q:Query {_nid: 30}), (p:Product) WHERE p._nid IN [0, 60] "
           "CREATE (q)-[:PURCHASED {esci: 'E'}]->(p)")
    predictions, stats = predict_new(db.driver, db.database, runs, run_id,
                                     WritebackOptions(device="cpu"), write=True,
                                     progress=False)
    new = [p for p in predictions if p.label == "Product"]
    assert [p.nid for p in new] == [60]
    after = graph_predictions(db, run_id)
    assert after[60][:2] == (new[0].predicted, pytest.approx(new[0].probability, abs=1e-6))
    assert {k: v for k, v in after.items() if k != 60} == before  # nothing else touched
    counts = {r["id"].split("/", 1)[1]: r["n"] for r in db.run(
        "MATCH (o:LmgnnOutput {status: 'complete'}) RETURN o.id AS id, o.count AS n")}
    assert counts == {"node_class/Product/category": 61, "embedding/Product": 61,
                      "embedding/Query": 31}
    assert sum(s.items for s in stats) == 3
    _, rows = queries.run_query(db.driver, db.database, "nearest_for_new",
                                {"key": "q30", "k": "3"})
    assert len(rows) == 3 and rows[0]["source"] == "atlas please"
    # the CLI prints the same prediction and writes nothing new on a second run
    shown = CliRunner().invoke(app, ["predict", "--run", run_id, "--runs-dir", str(runs)],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "p60" in shown.output and str(new[0].predicted) in shown.output


def test_link_and_edge_runs_write_new_links_and_edge_classes_and_delete_cleans_up(
        trainshop, tiny_lm_dir, tmp_path):
    db, runs = trainshop, tmp_path / "runs"
    link_run = train_run(db, tiny_lm_dir, runs, "link")
    edge_run = train_run(db, tiny_lm_dir, runs, "edge")
    for run_id in (link_run, edge_run):
        writeback(db.driver, db.database, runs, run_id,
                  WritebackOptions(top_k=4, embeddings=False, device="cpu"), progress=False)
    links = db.run("MATCH (q:Query)-[r:PREDICTED_PURCHASED {run: $run}]->(p:Product) "
                   "RETURN q._nid AS q, p._nid AS p, r.rank AS rank", run=link_run)
    assert len(links) == 30 * 4
    assert len({(r["q"], r["p"]) for r in links}) == len(links)
    assert db.run("MATCH (q)-[:PURCHASED]->(p), (q)-[:PREDICTED_PURCHASED]->(p) "
                  "RETURN count(*) AS n")[0]["n"] == 0
    key = run_key(edge_run)
    classified = db.run(f"MATCH ()-[r:PURCHASED]->() WHERE r.`pred_esci__{key}` IN "
                        "['E', 'S', 'C'] RETURN count(r) AS n")[0]["n"]
    assert classified == 90
    _, confusion = queries.run_query(db.driver, db.database, "edge_confusion")
    assert sum(r["relationships"] for r in confusion) == 90
    runner = CliRunner()
    result = runner.invoke(app, ["writeback", "--keep", "1", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    kept = db.run("MATCH (o:LmgnnOutput) RETURN DISTINCT o.run_id AS run")
    assert kept == [{"run": edge_run}]
    assert db.run("MATCH ()-[r:PREDICTED_PURCHASED]->() RETURN count(r) AS n")[0]["n"] == 0
    result = runner.invoke(app, ["writeback", "--delete", edge_run])
    assert result.exit_code == 0, result.output
    assert db.run(f"MATCH ()-[r:PURCHASED]->() WHERE r.`pred_esci__{key}` IS NOT NULL "
                  "RETURN count(r) AS n")[0]["n"] == 0


def test_predict_gives_a_new_query_its_top_links_and_leaves_the_others(trainshop, tiny_lm_dir,
                                                                      tmp_path):
    db, runs = trainshop, tmp_path / "runs"
    run_id = train_run(db, tiny_lm_dir, runs, "link")
    options = WritebackOptions(top_k=4, embeddings=False, device="cpu")
    writeback(db.driver, db.database, runs, run_id, options, progress=False)
    query = ("MATCH (q:Query)-[r:PREDICTED_PURCHASED {run: $run}]->(p:Product) "
             "RETURN q._nid AS q, p._nid AS p, r.rank AS rank, r.score AS score ORDER BY q, rank")
    before = db.run(query, run=run_id)
    db.run("CREATE (:Query {_nid: 30, query_id: 'q30', text: 'atlas please'})")
    db.run("MATCH (q:Query {_nid: 30}), (p:Product {_nid: 0}) "
           "CREATE (q)-[:PURCHASED {esci: 'E'}]->(p)")
    predictions, _ = predict_new(db.driver, db.database, runs, run_id, options, write=True,
                                 progress=False)
    assert [(p.label, p.nid) for p in predictions] == [("Query", 30)]
    expected = [(30, dst, rank) for rank, (dst, _) in enumerate(predictions[0].links, 1)]
    after = db.run(query, run=run_id)
    assert [r for r in after if r["q"] != 30] == before
    assert [(r["q"], r["p"], r["rank"]) for r in after if r["q"] == 30] == expected
    assert len(expected) == 4 and 0 not in [d for _, d, _ in expected]  # bought: excluded
    count = db.run("MATCH (o:LmgnnOutput {kind: 'links'}) RETURN o.count AS n")[0]["n"]
    assert count == len(after) == 31 * 4

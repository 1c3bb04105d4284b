"""`lmgnn demo` end to end on a small synthetic shop with a tiny LM (the packaged one is the
default; CI runs it with `make demo`)."""

from __future__ import annotations

from typer.testing import CliRunner

from lmgnn.cli.main import app


def test_demo_runs_the_whole_loop_and_says_where_to_look(neo4j_db, tiny_lm_dir, tmp_path):
    result = CliRunner().invoke(
        app, ["demo", "--products", "300", "--queries", "200", "--steps", "3",
              "--lm-path", str(tiny_lm_dir), "--runs-dir", str(tmp_path / "runs")],
        env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for text in ("accuracy_by_class", "misclassified", "similar", "top_links",
                 "/browser/", "(q:Query)-[r:PREDICTED_PURCHASED]->(p:Product)",
                 "db.index.vector.queryNodes"):
        assert text in result.output
    outputs = neo4j_db.run("MATCH (:ModelRun)-[:WROTE]->(o:LmgnnOutput) "
                           "RETURN o.kind AS kind, o.status AS status, o.count AS n")
    assert sorted(o["kind"] for o in outputs) == ["embedding", "embedding", "links",
                                                  "node_class"]
    assert all(o["status"] == "complete" and o["n"] > 0 for o in outputs)
    assert neo4j_db.run("MATCH ()-[r:PREDICTED_PURCHASED]->() RETURN count(r) AS n"
                        )[0]["n"] == 200 * 5

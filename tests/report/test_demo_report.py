"""`lmgnn demo` ends with a report per run (recorded on its (:ModelRun)) and the `:style`
line for Neo4j Browser."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from lmgnn.cli.main import app


def test_demo_writes_a_report_per_run_and_prints_the_style(neo4j_db, tiny_lm_dir,
                                                          tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--products", "300", "--queries", "200", "--steps", "3",
              "--lm-path", str(tiny_lm_dir), "--runs-dir", str(tmp_path / "runs")],
        env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    reports = [Path(p) for p in re.findall(r"^ +(\S+/report/index\.html)$", result.output,
                                           re.M)]
    assert len(reports) == 2 and all(p.is_file() for p in reports), result.output
    recorded = neo4j_db.run("MATCH (r:ModelRun) RETURN r.run_id AS id, r.report AS report")
    assert sorted(r["report"] for r in recorded) == sorted(str(p.resolve()) for p in reports)
    style = [line for line in result.output.splitlines() if line.startswith(":style ")]
    assert len(style) == 1
    assert "node.Query {" in style[0] and "relationship.PREDICTED_PURCHASED {" in style[0]

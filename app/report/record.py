"""Put a report's path on the `(:ModelRun)` nodes of the runs it shows."""

from __future__ import annotations

from collections.abc import Sequence

import neo4j

from lmgnn import cypher_files as cypher


def record_report(driver: neo4j.Driver, database: str, run_ids: Sequence[str],
                  path: str) -> int:
    """``report`` (one run) or ``compare_report`` (several); returns how many runs the graph
    knows (a run directory whose database was wiped since is not recreated)."""
    if len(run_ids) == 1:
        records, _, _ = driver.execute_query(cypher.load("report/record_report"),
                                             run_id=run_ids[0], path=path, database_=database)
    else:
        records, _, _ = driver.execute_query(cypher.load("report/record_comparison"),
                                             run_ids=list(run_ids), path=path,
                                             database_=database)
    return int(records[0]["recorded"])

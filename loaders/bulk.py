"""``bulk_load``: a new graph through Neo4j's offline importer, for sizes the online path
cannot take in reasonable time.

Order: check the database may be replaced (it holds no nodes, or ``replace``) -> one read
of every file that validates it exactly as ``load_graph`` does and writes the importer's CSV
files (``bulk_files``) next to the store as it goes (bad input: the same error, the files are
deleted, the database untouched) -> ``neo4j-admin database import full`` into a staging
store while the server keeps serving, then stop the server, swap the stores, start it
(``lmgnn.db.bulk_import``) -> the same constraints and indexes as the online path -> the spec.
The result is the graph the online path builds in an empty database: same nodes, properties,
``_nid``s and relationships.

The importer rewrites the whole store, so it is used only where that loses nothing: a database
without nodes, or ``--replace`` (which deletes everything anyway). Otherwise, and for a server
lmgnn cannot stop (Docker, remote), the load goes online, with a note saying why.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import neo4j

from lmgnn import spec_store
from lmgnn.config import Settings
from lmgnn.db import bulk_import, server
from lmgnn.db.connection import graph_counts, open_driver
from lmgnn.loaders import write
from lmgnn.loaders.bulk_files import ImportFiles, validate_and_write
from lmgnn.loaders.load import LoadReport, check_database_is_free, write_validated
from lmgnn.loaders.progress import RowProgress
from lmgnn.loaders.validate import validate_files
from lmgnn.spec import GraphSpec

Say = Callable[[str], None]


def bulk_load(spec: GraphSpec, data_dir: Path, settings: Settings, *, replace: bool = False,
              progress: bool = True, say: Say | None = None) -> LoadReport:
    """Load ``spec``'s files into the local server's database with the offline importer.

    Falls back to the online path (``report.method == "online"``, ``report.note`` says why)
    where the importer cannot be used without losing data or stopping a server that is not
    ours. Raises the same UserErrors as ``load_graph`` for bad input, before any write.
    """
    started = time.perf_counter()
    data_dir = Path(data_dir)
    report = LoadReport(graph=spec.name, dry_run=False, method="bulk")
    database = settings.database
    with RowProgress(enabled=progress) as bars:
        problem = bulk_import.local_import_problem(settings)
        if problem is None and not server.bolt_answers(settings):
            settings = server.start(settings)
        driver = open_driver(settings)
        try:
            nodes = _node_count(driver, database)
            if problem is None and nodes and not replace:
                problem = (f"database {database!r} holds {nodes:,} nodes and the importer "
                           "replaces a whole database: adding to it online (pass --replace "
                           "to delete them and import)")
            if problem is not None:
                _online(spec, data_dir, driver, database, bars, report, problem,
                        replace=replace, say=say)
                report.seconds = time.perf_counter() - started
                return report
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="bulk-import-", dir=settings.data_dir) as tmp:
                work = Path(tmp)
                checked, files = validate_and_write(spec, data_dir, work / "files", bars)
                report.validate_seconds = time.perf_counter() - started
                report.rows_read = checked.total_rows
                if not replace:
                    check_database_is_free(driver, database, spec)
                driver.close()
                settings = _import(settings, files, work, report)
        finally:
            driver.close()
    driver = open_driver(settings)
    try:
        before = time.perf_counter()
        write.create_schema(driver, database, spec)
        report.schema_seconds = time.perf_counter() - before
        spec_store.save_spec(driver, database, spec)
        report.nodes, report.relationships = write.count_graph(driver, database, spec)
    finally:
        driver.close()
    report.created_nodes, report.created_relationships = (report.total_nodes,
                                                          report.total_relationships)
    report.seconds = time.perf_counter() - started
    return report


def _online(spec: GraphSpec, data_dir: Path, driver: neo4j.Driver, database: str,
            bars: RowProgress, report: LoadReport, problem: str, *, replace: bool,
            say: Say | None) -> None:
    """The online path, as ``load_graph`` runs it, with a note saying why."""
    report.method, report.note = "online", f"--bulk: {problem}; loading online"
    if say:
        say(report.note)
    before = time.perf_counter()
    checked = validate_files(spec, data_dir, bars)
    report.validate_seconds = time.perf_counter() - before
    report.rows_read = checked.total_rows
    if not replace:
        check_database_is_free(driver, database, spec)
    write_validated(driver, database, spec, data_dir, checked, bars, report, replace=replace)


def _import(settings: Settings, files: ImportFiles, work: Path,
            report: LoadReport) -> Settings:
    run = bulk_import.bulk_import(
        settings, settings.database, [f.argument() for f in files.nodes],
        [f.argument() for f in files.relationships], multiline=files.multiline,
        work_dir=work)
    report.import_seconds, report.downtime_seconds = run.seconds, run.stopped_seconds
    report.stop_seconds = run.stop_seconds
    report.node_seconds = report.relationship_seconds = 0.0
    return settings


def _node_count(driver: neo4j.Driver, database: str) -> int:
    return graph_counts(driver, database)["nodes"]

"""``load_graph``: files described by a GraphSpec -> validated -> Neo4j, idempotently.

Order: validate every file fully (nothing written yet) -> refuse a database that holds another
graph -> constraints and indexes -> nodes (dense ``_nid`` per label) -> relationships, one
relation after another -> the spec itself, as ``(:LmgnnSpec)``. Loading the same files again
gives the same graph. A crash between batches (server gone) leaves a partial graph that a
re-run completes; bad input never gets that far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import neo4j

from lmgnn import cypher_files as cypher
from lmgnn import spec_store
from lmgnn.errors import UserError
from lmgnn.loaders import write
from lmgnn.loaders.plan import describe_rel
from lmgnn.loaders.progress import RowProgress
from lmgnn.loaders.validate import ValidatedGraph, validate_files
from lmgnn.spec import RESERVED_LABELS, GraphSpec


class GraphMismatch(UserError):
    """The database already holds a different graph (one graph per database)."""


@dataclass
class LoadReport:
    """What a load found in the files and what the graph holds afterwards.

    ``nodes``/``relationships``: counts per label and per ``Source-[:TYPE]->Target`` (distinct
    rows in the files for a dry run; counted in Neo4j after a real load). ``created_*``: what
    this run added (0 on a repeated load).
    """

    graph: str
    dry_run: bool
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    created_nodes: int = 0
    created_relationships: int = 0
    validate_seconds: float = 0.0  # bulk: the same pass writes the importer's files
    node_seconds: float = 0.0
    relationship_seconds: float = 0.0
    seconds: float = 0.0
    method: str = "online"  # "online" (batched UNWIND) or "bulk" (neo4j-admin import)
    import_seconds: float = 0.0  # bulk: the importer itself
    downtime_seconds: float = 0.0  # bulk: server stopped (stop + swap + start)
    stop_seconds: float = 0.0  # bulk: of which the server's stop
    schema_seconds: float = 0.0  # constraints and indexes (bulk: built after the import)
    note: str = ""  # why a bulk load went online instead, when it did

    @property
    def total_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def total_relationships(self) -> int:
        return sum(self.relationships.values())


def load_graph(spec: GraphSpec, data_dir: Path, driver: neo4j.Driver | None, database: str,
               *, dry_run: bool = False, progress: bool = True,
               replace: bool = False) -> LoadReport:
    """Load the files of ``spec`` (paths relative to ``data_dir``) into ``database``.

    ``dry_run`` validates everything and writes nothing (``driver`` may then be None, which
    skips the check against a graph already stored). ``replace`` deletes whatever the database
    holds (every node, lmgnn's constraints) once the files passed validation, instead of
    refusing a database that holds another graph. Raises UserError subclasses naming file,
    row and field for bad input, before the first write.
    """
    started = time.perf_counter()
    data_dir = Path(data_dir)
    report = LoadReport(graph=spec.name, dry_run=dry_run)
    with RowProgress(enabled=progress) as bars:
        checked = validate_files(spec, data_dir, bars)
        report.validate_seconds = time.perf_counter() - started
        report.rows_read = checked.total_rows
        if driver is None and not dry_run:
            raise ValueError("a driver is needed unless dry_run=True")
        if driver is not None and not replace:
            check_database_is_free(driver, database, spec)
        if dry_run:
            report.nodes = {label: len(keys) for label, keys in checked.keys.items()}
            report.relationships = dict(checked.rel_unique)
        else:
            assert driver is not None  # checked above: only a dry run goes without one
            write_validated(driver, database, spec, data_dir, checked, bars, report,
                            replace=replace)
    report.seconds = time.perf_counter() - started
    return report


def write_validated(driver: neo4j.Driver, database: str, spec: GraphSpec, data_dir: Path,
                    checked: ValidatedGraph, bars: RowProgress, report: LoadReport,
                    *, replace: bool = False) -> None:
    """The online write of files that passed ``validate_files`` (``--replace``: delete the
    database's graph first)."""
    if replace:
        write.delete_graph(driver, database)
    counts = write.WriteCounts()
    before = time.perf_counter()
    write.create_schema(driver, database, spec)
    report.schema_seconds = time.perf_counter() - before
    t0 = time.perf_counter()
    ids = {}
    for label, node in spec.nodes.items():
        ids[label] = write.node_ids(driver, database, node, checked.keys[label])
        write.write_nodes(driver, database, node, data_dir, ids[label], bars,
                          checked.node_rows[label], counts)
    t1 = time.perf_counter()
    for rel in spec.relationships:
        name = describe_rel(rel)
        write.write_relationships(driver, database, spec, rel, data_dir, ids, bars,
                                  checked.rel_rows[name], counts,
                                  repeats=checked.rel_rows[name] != checked.rel_unique[name])
    t2 = time.perf_counter()
    spec_store.save_spec(driver, database, spec)
    report.node_seconds, report.relationship_seconds = t1 - t0, t2 - t1
    report.created_nodes = counts.nodes_created
    report.created_relationships = counts.relationships_created
    report.nodes, report.relationships = write.count_graph(driver, database, spec)


def check_database_is_free(driver: neo4j.Driver, database: str, spec: GraphSpec) -> None:
    """One graph per database: refuse a spec of another name, or labels lmgnn did not load."""
    records = write.read(driver, database, cypher.load("spec/get"))  # no warnings if absent
    stored = GraphSpec.from_json(records[0]["json"]) if records else None
    if stored is not None and stored.name != spec.name:
        raise GraphMismatch(
            f"database {database!r} already holds the graph {stored.name!r}; {spec.origin} "
            f"describes {spec.name!r}. One graph per database: load into another database "
            "(--database / NEO4J_DATABASE), or pass --replace to delete it")
    if stored is None:
        records = write.read(driver, database, cypher.load("load/labels_in_use"))
        foreign = sorted(set(records[0]["labels"]) - set(spec.nodes) - RESERVED_LABELS)
        if foreign:
            raise GraphMismatch(
                f"database {database!r} holds nodes labelled {', '.join(foreign)} that "
                f"{spec.origin} does not describe: load into an empty database "
                "(--database / NEO4J_DATABASE), or pass --replace to delete them")

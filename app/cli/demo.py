"""`lmgnn demo`: the whole loop in a few minutes on a laptop.

Start (or reuse) Neo4j -> load the synthetic query-purchase-product graph -> train `lmgnn`
(packaged MiniLM + GNN) on product categories and a quick GNN on purchases -> write back
predictions, embeddings (vector indexes) and predicted links -> print a few library queries ->
write an HTML report of each run -> say how to look at it all in Neo4j Browser (and print the
`:style` line that captions nodes by their text and draws predicted links in red).

The database is checked before any work: one that holds another graph (or a synthetic shop of
other sizes) stops the demo with what to do (`--replace`, or another database). Each step's
failure stops the demo.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.cli.query import result_table
from lmgnn.cli.train import RunsOpt, runs_dir
from lmgnn.config import Settings, load_settings
from lmgnn.db import connect
from lmgnn.errors import UserError
from lmgnn.writeback.naming import run_key


def demo(
    products: Annotated[int, typer.Option(help="synthetic products")] = 1_200,
    queries: Annotated[int, typer.Option(help="synthetic queries")] = 800,
    steps: Annotated[int, typer.Option(help="training steps per epoch (CPU time bound)")] = 25,
    links: Annotated[bool, typer.Option(help="also train a GNN on purchases and write the "
                                                "top-5 predicted purchases per query")] = True,
    seed: int = 0,
    lm_path: Annotated[str | None, typer.Option(hidden=True)] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="delete whatever graph the database holds, then run the demo")
    ] = False,
    runs: RunsOpt = None,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
) -> None:
    """Run the whole loop on a synthetic shop graph and show where to look in Neo4j Browser."""
    from lmgnn.db import server
    from lmgnn.loaders import load_graph
    from lmgnn.loaders.synthetic import SPEC_FILE, generate
    from lmgnn.spec import load_spec
    from lmgnn.train import TrainConfig, train
    from lmgnn.train.config import Method, TaskKind
    from lmgnn.writeback.pipeline import WritebackOptions, writeback

    settings = load_settings(uri=uri, user=user, database=database)
    if settings.is_local:
        with console.status(f"starting or reusing Neo4j at {settings.uri} ..."):
            settings = server.start(settings)
    root = runs_dir(runs)
    data_dir = root / "demo-data"
    with connect(settings) as (driver, db):
        if not replace:
            _check_database(driver, db, load_spec(SPEC_FILE),
                            {"Product": products, "Query": queries})
        _step(1, f"synthetic shop: {products:,} products, {queries:,} queries (seed {seed})")
        spec_path = generate(data_dir, products=products, queries=queries, seed=seed)
        report = load_graph(load_spec(spec_path), spec_path.parent, driver, db,
                            replace=replace)
        console.print(f"   loaded {_counts(report)}", markup=False)

        _step(2, "train lmgnn (packaged MiniLM + GraphSAGE) on Product.category")
        common: dict[str, Any] = {"lm_path": lm_path, "seed": seed,
                                  "max_steps_per_epoch": steps, "eval_max": 400}
        node_run = train(TrainConfig(method=Method.lmgnn, task=TaskKind.node,
                                     target="Product.category",
                                     epochs=2, lm_epochs=1, joint_epochs=1, hidden=64,
                                     batch_size=128, **common), driver, db, root)
        console.print(f"   run {node_run.run_id}: test accuracy {node_run.test['acc']:.3f}")
        link_run = None
        if links:
            _step(3, "train a GNN on Query-[:PURCHASED]->Product (link prediction)")
            link_run = train(TrainConfig(method=Method.gnn, task=TaskKind.link,
                                         target="PURCHASED",
                                         epochs=2, hidden=64, batch_size=256, **common),
                             driver, db, root)
            console.print(f"   run {link_run.run_id}: test MRR {link_run.test['mrr']:.3f}")

        _step(4, "write predictions, embeddings (vector indexes) and predicted links back")
        writeback(driver, db, root, node_run.run_id, WritebackOptions())
        if link_run:
            writeback(driver, db, root, link_run.run_id,
                      WritebackOptions(top_k=5, embeddings=False))

        _step(5, "a few queries from the library (`lmgnn query --list`)")
        _show(driver, db, "accuracy_by_class", {"run": node_run.run_id, "split": "test"})
        _show(driver, db, "misclassified", {"run": node_run.run_id, "limit": "8"})
        first = _first_product(driver, db)
        _show(driver, db, "similar", {"run": node_run.run_id, "key": first, "k": "5"})
        if link_run:
            _show(driver, db, "top_links", {"run": link_run.run_id, "limit": "10"})

        _step(6, "a report of each run (HTML with plots, also recorded on its (:ModelRun))")
        for run in [node_run, *([link_run] if link_run else [])]:
            console.print(f"   {_report(driver, db, run.path)}", markup=False,
                          highlight=False, soft_wrap=True)
        style = _style_line(driver, db)
    _browser_help(settings, node_run.run_id, link_run.run_id if link_run else None)
    console.print("Captions from text and predicted links in red: paste this line into "
                  "Browser's editor and run it:")
    console.print(style, markup=False, highlight=False, soft_wrap=True)


def _check_database(driver, db: str, spec, sizes: dict[str, int]) -> None:
    """Refuse, before any work, a database holding a graph the demo would mix with: another
    graph, nodes of other labels, or a synthetic shop of other sizes (merging into it would
    leave a graph that is neither)."""
    from lmgnn import cypher_files as cypher
    from lmgnn.loaders.write import count_graph, read
    from lmgnn.spec import RESERVED_LABELS
    from lmgnn.spec_store import stored_spec

    stored = stored_spec(driver, db)
    labels = set(read(driver, db, cypher.load("load/labels_in_use"))[0]["labels"])
    foreign = sorted(labels - set(spec.nodes) - RESERVED_LABELS)
    nodes = count_graph(driver, db, spec)[0] if not foreign else {}
    if stored is not None and stored.name != spec.name:
        what = f"database {db!r} holds the graph {stored.name!r}, not the demo's {spec.name!r}"
    elif foreign:
        what = f"database {db!r} holds nodes labelled {', '.join(foreign)}"
    elif any(nodes.values()) and nodes != sizes:
        what = (f"database {db!r} holds a synthetic shop of "
                + ", ".join(f"{n:,} {label}" for label, n in nodes.items())
                + f", not the demo's {sizes['Product']:,} Product, {sizes['Query']:,} Query")
    else:
        return
    raise UserError(f"{what}. The demo did nothing: `lmgnn demo --replace` deletes it and "
                    "runs the demo, or point the demo at another database "
                    "(--database / NEO4J_DATABASE) or server (--uri / NEO4J_URI)")


def _step(n: int, text: str) -> None:
    console.print(f"\n[bold cyan]{n}.[/] [bold]{text}[/]")


def _counts(report: object) -> str:
    nodes = getattr(report, "nodes", None)
    rels = getattr(report, "relationships", None)
    if isinstance(nodes, dict) and isinstance(rels, dict):
        return (", ".join(f"{v:,} {k}" for k, v in nodes.items()) + "; "
                + ", ".join(f"{v:,} {k}" for k, v in rels.items()))
    return str(report)


def _show(driver, db: str, name: str, given: dict[str, str]) -> None:
    from lmgnn.writeback import queries

    doc = queries.query_doc(name)
    columns, rows = queries.run_query(driver, db, name, given)
    console.print(result_table(f"{name}: {doc.title}", columns, rows))


def _first_product(driver, db: str) -> str:
    from lmgnn.spec_store import require_spec
    from lmgnn.writeback.inference import node_keys

    spec = require_spec(driver, db)
    return node_keys(driver, db, spec, {"Product": {0}})[("Product", 0)]


def _report(driver, db: str, run_path) -> object:
    from lmgnn.report import build_report
    from lmgnn.report.record import record_report

    report = build_report([run_path])
    record_report(driver, db, [report.runs[0].run_id], str(report.path.resolve()))
    return report.path


def _style_line(driver, db: str) -> str:
    from lmgnn.browser.style import style_line
    from lmgnn.spec_store import require_spec

    return style_line(require_spec(driver, db))


def _browser_help(settings: Settings, node_run: str, link_run: str | None) -> None:
    host = settings.bolt_host_port[0]
    port = settings.http_port if settings.is_local else 7474
    key = run_key(node_run)
    where = escape(f"{settings.uri}, user {settings.user!r} (password: "
                   f"{settings.sources.get('password', 'NEO4J_PASSWORD')})")
    lines = [
        f"Open [bold]http://{escape(host)}:{port}/browser/[/] and connect with {where}.",
        "",
        "Products whose predicted category disagrees with the catalogue:",
        f"  MATCH (p:Product) WHERE p.`pred_category__{key}` <> p.category",
        f"  RETURN p.title, p.category, p.`pred_category__{key}` AS predicted,",
        f"         p.`prob_category__{key}` AS probability ORDER BY probability DESC LIMIT 25",
        "",
        "Products nearest to one, through the vector index:",
        "  MATCH (p:Product) WITH p LIMIT 1",
        f"  CALL db.index.vector.queryNodes('emb_Product__{key}', 6, p.`emb__{key}`)",
        "  YIELD node, score RETURN p.title, node.title, score",
    ]
    if link_run:
        lines += ["", "Predicted purchases as a graph (switch to the Graph view):",
                  "  MATCH (q:Query)-[r:PREDICTED_PURCHASED]->(p:Product)",
                  f"  WHERE r.run = '{link_run}' RETURN q, r, p LIMIT 60"]
    lines += ["", "Every library query prints ready-to-paste Cypher: "
              "`lmgnn query misclassified --cypher`."]
    body = "\n".join(escape(line) if line.startswith("  ") else line for line in lines)
    console.print(Panel(body, title="Look at it in Neo4j Browser", expand=False))




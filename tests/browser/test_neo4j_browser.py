"""Neo4j Browser, served by the test's local server, in a real browser: it logs in with the
configured user and password, runs the demo's predicted-links query and draws the links, and
the style `lmgnn db start` prints captions nodes by their text."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from lmgnn.cli.common import console
from lmgnn.cli.demo import _browser_help
from lmgnn.config import Settings

from ..report.cli_runs import ShopRuns, invoke

DRAWN = re.compile(r"Displaying (\d+) nodes, (\d+) relationships")


def demo_graph_query(settings: Settings, shop: ShopRuns) -> str:
    """The predicted-links query exactly as `lmgnn demo` prints it in its Browser panel."""
    with console.capture() as captured:
        _browser_help(settings, shop.node.name, shop.link.name)
    lines = [line.strip(" │") for line in captured.get().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Predicted purchases"))
    return " ".join(line.strip() for line in lines[start + 1:start + 3])


def connect(page: Any, settings: Settings, password: str) -> None:
    page.goto(f"http://127.0.0.1:{settings.http_port}/browser/")
    page.get_by_test_id("boltaddress").fill(settings.uri)
    page.get_by_test_id("username").fill(settings.user)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("connect").click()


def run(page: Any, command: str) -> Any:
    """Type a command into the editor, run it (Ctrl+Enter), return its result frame."""
    page.get_by_test_id("activeEditor").click()
    page.keyboard.insert_text(command)
    page.keyboard.press("Control+Enter")
    frame = page.get_by_test_id("frame").first
    frame.get_by_test_id("frameCommand").filter(has_text=" ".join(command.split())[:40]
                                                ).wait_for()
    return frame


def drawn(frame: Any) -> tuple[int, int]:
    """Nodes and relationships the graph view says it draws."""
    frame.get_by_text(DRAWN).wait_for()
    found = DRAWN.search(frame.inner_text())
    assert found
    return int(found.group(1)), int(found.group(2))


def captions(frame: Any, count: int) -> list[str]:
    """Each drawn node's caption, its lines joined, once all ``count`` nodes are drawn.

    The status line ("Displaying N nodes") comes first; the force layout then adds the
    nodes to the SVG, so counting at once races the drawing on a loaded machine.
    """
    nodes = frame.locator("svg g.node")
    expect(nodes).to_have_count(count, timeout=60_000)
    return [" ".join((t.text_content() or "").strip() for t in nodes.nth(i).locator("text").all())
            .strip() for i in range(nodes.count())]


def test_browser_refuses_a_wrong_password(page, neo4j_settings) -> None:
    connect(page, neo4j_settings, "not-the-password")
    page.get_by_text(re.compile("authentication failure|unauthorized", re.I)).wait_for()
    assert page.get_by_text("Connected to Neo4j").count() == 0


def test_browser_logs_in_and_draws_the_predicted_links_in_the_style_we_print(
        page, neo4j_settings, browser_shop) -> None:
    settings = neo4j_settings
    connect(page, settings, settings.password or "")
    page.get_by_text("Connected to Neo4j").wait_for()

    query = demo_graph_query(settings, browser_shop)
    assert query.startswith("MATCH (q:Query)-[r:PREDICTED_PURCHASED]->(p:Product)")
    frame = run(page, query)
    nodes, _ = drawn(frame)
    assert nodes > 0
    overview = frame.get_by_text(re.compile(r"PREDICTED_PURCHASED \((\d+)\)")).first
    assert int(re.search(r"\((\d+)\)", overview.inner_text()).group(1)) > 0
    keys = {r["k"] for r in browser_shop_keys(browser_shop)}
    default = captions(frame, nodes)
    assert any(c in keys for c in default)  # by default Browser captions a Query by its key

    style = [line for line in invoke(["db", "start"], browser_shop.env).splitlines()
             if line.startswith(":style ")]
    assert len(style) == 1
    run(page, style[0])
    frame = run(page, query)
    assert drawn(frame)[0] == nodes
    styled = captions(frame, nodes)
    words = {w for r in browser_shop_keys(browser_shop) for w in r["text"].split()}
    first_words = [c.split()[0].rstrip("…") for c in styled if c.split()]
    assert not any(c in keys for c in styled)
    assert sum(any(w.startswith(f) for w in words) for f in first_words if f) > \
        0.9 * len(styled)


def browser_shop_keys(shop: ShopRuns) -> list[dict[str, str]]:
    """Key and caption text of every Query and Product (from the database)."""
    from neo4j import GraphDatabase

    env = shop.env
    with GraphDatabase.driver(env["NEO4J_URI"], auth=(env["NEO4J_USER"],
                                                      env["NEO4J_PASSWORD"])) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (q:Query) RETURN q.query_id AS k, q.text AS text UNION ALL "
            "MATCH (p:Product) RETURN p.product_id AS k, p.title AS text",
            database_=env["NEO4J_DATABASE"])
    return [{"k": str(r["k"]), "text": str(r["text"] or "")} for r in records]

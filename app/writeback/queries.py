"""The Cypher query library (cypher/queries/*.cypher): documented, typed, run by name.

A query file documents itself in its leading ``//`` lines: the first is the title, then a
description, then one line per parameter::

    // $run: run(node_class) = latest -- run whose predictions to read
    // $label: label = any -- classified node label, when the run classified several
    // $limit: int = 25 -- rows to return

Types: ``string``, ``int``, ``float``, ``bool``, ``value`` (a key: int when it looks like one,
quote it to keep a string), ``label`` / ``type`` (checked against the graph spec), and
``run(KIND)``: a run id (``latest`` / ``previous`` = the most recent runs with a complete
output of KIND). A default of ``null`` or ``any`` means none; no default means required.

The names a run wrote (labels, property names) are filled into ``{{run_pred}}``-style
placeholders (``<run param>_<field>``; a label param ``p`` gives ``{{p}}``, ``{{p_key}}``,
``{{p_display}}``), rebuilt from the spec and the run id and quoted by
``cypher_files.render``; all values are ``$parameters``. So every query plans with label scans
and indexes, and ``prepare(...).browser_text()`` is ready to paste into Neo4j Browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import neo4j

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.spec import GraphSpec
from lmgnn.spec_store import require_spec
from lmgnn.writeback import manifest, naming

KINDS = ("node_class", "embedding", "links", "edge_class")
_PARAM = re.compile(r"^\$([a-z_][a-z0-9_]*)\s*:\s*([a-z]+)(?:\(([a-z_]+)\))?\s*"
                    r"(?:=\s*(.+?))?\s*--\s*(.+)$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_TYPES = ("string", "int", "float", "bool", "value", "label", "type", "run")
_NONE = ("null", "any")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    kind: str | None  # the output kind a run parameter reads
    default: str | None  # as written in the file; None = required
    help: str

    @property
    def signature(self) -> str:
        kind = f"({self.kind})" if self.kind else ""
        default = "required" if self.default is None else f"default {self.default}"
        return f"{self.name}: {self.type}{kind}, {default}"


@dataclass(frozen=True)
class QueryDoc:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class PreparedQuery:
    name: str
    text: str
    params: dict[str, Any]

    def browser_text(self) -> str:
        """`:params` line plus the statement, for pasting into Neo4j Browser."""
        pairs = ", ".join(f"{k}: {_cypher_literal(v)}" for k, v in self.params.items())
        return f":params {{{pairs}}}\n\n{self.text}"


def names() -> list[str]:
    return [n.split("/", 1)[1] for n in cypher.names() if n.startswith("queries/")]


def library() -> list[QueryDoc]:
    return [query_doc(n) for n in names()]


def query_doc(name: str) -> QueryDoc:
    """Parse a query's header; a UserError lists the known queries for an unknown name."""
    if name not in names():
        raise UserError(f"unknown query {name!r}; known queries: {', '.join(names())} "
                        "(`lmgnn query --list` describes them)")
    lines = cypher.header(f"queries/{name}").splitlines()
    title, rest = lines[0].strip(), lines[1:]
    description, params = [], []
    for line in rest:
        match = _PARAM.match(line.strip())
        if match:
            pname, ptype, kind, default, help_ = match.groups()
            if ptype not in _TYPES or (ptype == "run") != (kind in KINDS):
                raise ValueError(f"cypher/queries/{name}.cypher: bad parameter line {line!r}")
            params.append(Param(pname, ptype, kind, default, help_))
        elif line.strip():
            description.append(line.strip())
    return QueryDoc(name, title, " ".join(description), tuple(params))


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` from the command line into a dict."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--param {item!r}: write it as key=value")
        out[key.strip()] = value
    return out


def prepare(driver: neo4j.Driver, database: str, name: str,
            given: dict[str, str] | None = None) -> PreparedQuery:
    """Typed parameter values and the statement with the run's names filled in."""
    doc = query_doc(name)
    given = dict(given or {})
    unknown = sorted(set(given) - {p.name for p in doc.params})
    if unknown:
        known = "; ".join(p.signature for p in doc.params) or "none"
        raise UserError(f"query {name} has no parameter {unknown[0]!r}; its parameters: {known}")
    values: dict[str, Any] = {}
    for p in doc.params:
        raw = given.get(p.name, p.default)
        if raw is None:
            raise UserError(f"query {name} needs --param {p.name}=... ({p.help})")
        values[p.name] = _convert(name, p, raw)
    spec = (require_spec(driver, database)
            if any(p.type in ("label", "type", "run") for p in doc.params) else None)
    identifiers: dict[str, str] = {}
    for p in doc.params:
        if p.type in ("label", "type") and values[p.name] is not None:
            identifiers.update(_schema_identifiers(spec, p, values[p.name]))
    for p in doc.params:
        if p.type == "run":
            values[p.name] = _resolve_run(driver, database, name, p, values[p.name])
            fields, extra = _run_names(driver, database, spec, name, p, values)
            identifiers.update({f"{p.name}_{k}": v for k, v in fields.items()})
            values.update({f"{p.name}_{k}": v for k, v in extra.items()})
    text = _render(name, identifiers)
    return PreparedQuery(name, text, values)


def run_query(driver: neo4j.Driver, database: str, name: str,
              given: dict[str, str] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Run a library query: (column names, rows)."""
    prepared = prepare(driver, database, name, given)
    records, _, keys = driver.execute_query(prepared.text, prepared.params,
                                                  database_=database, routing_="r")
    return list(keys), [r.data() for r in records]


# ---- parameters ----------------------------------------------------------------------------
def _convert(query: str, p: Param, raw: str) -> Any:
    text = raw.strip()
    if text in _NONE and p.type not in ("run",):
        return None
    unquoted = text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else None
    try:
        if p.type == "int":
            return int(text)
        if p.type == "float":
            return float(text)
        if p.type == "bool":
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "yes", "1")
        if p.type == "value":
            if unquoted is not None:
                return unquoted
            try:
                return int(text)
            except ValueError:
                return text
    except ValueError as exc:
        raise UserError(f"query {query}: --param {p.name} must be {p.type}, got {raw!r}") from exc
    return unquoted if unquoted is not None else text


def _schema_identifiers(spec: GraphSpec | None, p: Param, value: str) -> dict[str, str]:
    assert spec is not None
    if p.type == "type":
        return {p.name: spec.relation(value).type}
    node = spec.node(value)
    return {p.name: node.label, f"{p.name}_key": node.key,
            f"{p.name}_display": naming.display_property(spec, node.label)}


def _resolve_run(driver: neo4j.Driver, database: str, query: str, p: Param, value: str) -> str:
    if value not in ("latest", "previous"):
        naming.run_key(value)
        return value
    records, _, _ = driver.execute_query(cypher.load("writeback/latest_runs"), kind=p.kind,
                                         database_=database, routing_="r")
    runs = [r["run_id"] for r in records]
    position = 0 if value == "latest" else 1
    if len(runs) <= position:
        raise UserError(f"query {query} needs {'a' if position == 0 else 'a second'} run with "
                        f"{p.kind} predictions in the graph (found: {', '.join(runs) or 'none'}): "
                        "run `lmgnn writeback --run ID` first, or pass --param "
                        f"{p.name}=RUN_ID")
    return runs[position]


def _run_names(driver: neo4j.Driver, database: str, spec: GraphSpec | None, query: str,
               p: Param, values: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Identifiers the run wrote for the query's output kind (rebuilt from the spec)."""
    assert spec is not None
    run_id = values[p.name]
    outputs = [o for o in manifest.outputs_of_run(driver, database, run_id)
               if o.get("kind") == p.kind]
    narrow = "label" if p.kind in ("node_class", "embedding") else "type"
    if values.get(narrow) is not None:
        outputs = [o for o in outputs if o.get(narrow) == values[narrow]]
    if len(outputs) != 1:
        where = [str(o.get("label") or o.get("type")) for o in outputs]
        detail = (f"several ({', '.join(where)}): pass --param {narrow}=..." if outputs
                  else "none" + (f" for {narrow} {values[narrow]}" if values.get(narrow) else ""))
        raise UserError(f"query {query}: run {run_id!r} has {p.kind} outputs: {detail}")
    o = outputs[0]
    names: naming.NodeClassNames | naming.LinkNames | naming.EdgeClassNames
    if p.kind == "node_class":
        names = naming.node_class_names(spec, run_id, o["label"], o["target"])
    elif p.kind == "embedding":
        emb = naming.embedding_names(spec, run_id, o["label"])
        return emb.identifiers(spec), {"index": emb.index}
    elif p.kind == "links":
        names = naming.link_names(spec, run_id, (o["source"], o["type"], o["target_label"]))
    else:
        names = naming.edge_class_names(spec, run_id, (o["source"], o["type"], o["target_label"]),
                                        o["target"])
    return names.identifiers(spec), {}


def _render(name: str, identifiers: dict[str, str]) -> str:
    wanted = set(_PLACEHOLDER.findall(cypher.load(f"queries/{name}")))
    missing = sorted(wanted - identifiers.keys())
    if missing:
        param = missing[0].split("_")[0]
        raise UserError(f"query {name} needs --param {param}=... (it names a label or type)")
    return cypher.render(f"queries/{name}", **{k: identifiers[k] for k in wanted})


def _cypher_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)

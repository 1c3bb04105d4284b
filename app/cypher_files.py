"""Cypher statements live in cypher/ as files, one statement per file, loaded by name.

``load("db/counts")`` reads ``cypher/db/counts.cypher`` once. Values are always ``$parameters``.
Labels, relationship types and property names cannot be parameters in Cypher, so files that
need them use ``{{name}}`` placeholders which only ``render`` fills, and only with names that
(1) the caller has checked against the graph spec and (2) are plain identifiers; they are
back-quoted on the way in.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def cypher_dir() -> Path:
    """cypher/ beside app/ in a checkout, or lmgnn/cypher/ in an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "cypher", here.parent / "cypher"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no cypher/ folder next to {here}")


def names() -> list[str]:
    root = cypher_dir()
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.cypher"))


@cache
def load(name: str) -> str:
    """The statement in cypher/NAME.cypher, without its leading // comment lines."""
    path = cypher_dir() / f"{name}.cypher"
    if not path.is_file():
        raise KeyError(f"no Cypher file {name!r}; known: {', '.join(names())}")
    return path.read_text(encoding="utf-8").strip()


def header(name: str) -> str:
    """The file's leading `//` comment lines: its documentation."""
    lines = []
    for line in load(name).splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].strip())
    return "\n".join(lines)


def quote(identifier: str) -> str:
    """Back-quote a label, type or property name after checking it is a plain identifier."""
    if not _IDENT.match(identifier):
        raise ValueError(f"{identifier!r} is not a valid Neo4j identifier")
    return f"`{identifier}`"


def render(name: str, **identifiers: str) -> str:
    """Fill the {{placeholders}} of a statement with checked, quoted identifiers."""
    text = load(name)
    wanted = set(_PLACEHOLDER.findall(text))
    missing, extra = wanted - identifiers.keys(), identifiers.keys() - wanted
    if missing or extra:
        raise KeyError(f"{name}: placeholders {sorted(wanted)}; missing {sorted(missing)}, "
                       f"unexpected {sorted(extra)}")
    return _PLACEHOLDER.sub(lambda m: quote(identifiers[m.group(1)]), text)

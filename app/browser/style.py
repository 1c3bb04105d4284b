"""A Neo4j Browser style (GraSS) from a graph spec: readable captions, predictions apart.

Browser captions a node with its first property by default, usually a key (``q17``). The
style captions each node type with its first text property (else its key), gives each type a
colour of its own, and draws the links a run predicted (``PREDICTED_<TYPE>``, see
``lmgnn.writeback.naming``) thick and red, so they stand apart from the graph's own links.

``style_line(spec)`` is the one ``:style ...`` command to paste into Browser's editor;
``grass(spec)`` the same rules laid out as a file. The files for the shipped specs live in
``lmgnn/browser/styles/`` and are regenerated with ``python -m lmgnn.browser.style``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lmgnn.spec import GraphSpec, load_spec
from lmgnn.writeback.naming import LINK_PREFIX

# Browser's own palette (light fills, dark captions)
PALETTE = ("#57C7E3", "#F79767", "#8DCC93", "#FFC454", "#C990C0", "#4C8EDA", "#D9C8AE",
           "#ECB5C9", "#DA7194", "#569480", "#FFE081", "#F16667")
PREDICTED = "#E11D48"
BOOKKEEPING = {"ModelRun": "run_id", "LmgnnOutput": "kind", "LmgnnSpec": "id"}
STYLES = Path(__file__).resolve().parent / "styles"

Rule = tuple[str, dict[str, str]]


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def caption_property(spec: GraphSpec, label: str) -> str:
    node = spec.node(label)
    return node.text[0] if node.text else node.key


def rules(spec: GraphSpec) -> list[Rule]:
    """Base rules first (a pasted style replaces Browser's whole style sheet), then one per
    node type, then the predicted relationship types."""
    out: list[Rule] = [
        ("node", {"diameter": "50px", "color": "#A5ABB6", "border-color": "#9AA1AC",
                  "border-width": "2px", "text-color-internal": "#2A2C34",
                  "font-size": "10px"}),
        ("relationship", {"color": "#A5ABB6", "shaft-width": "1px", "font-size": "8px",
                          "padding": "3px", "text-color-external": "#000000",
                          "text-color-internal": "#FFFFFF", "caption": "'<type>'"}),
    ]
    for i, label in enumerate(spec.nodes):
        colour = PALETTE[i % len(PALETTE)]
        out.append((f"node.{label}", {"color": colour, "border-color": "#5B6270",
                                      "caption": _quoted("{" + caption_property(spec, label)
                                                         + "}")}))
    for label, prop in BOOKKEEPING.items():
        out.append((f"node.{label}", {"color": "#E2E8F0", "caption": _quoted("{" + prop + "}")}))
    for rel_type in dict.fromkeys(r.type for r in spec.relationships):
        out.append((f"relationship.{LINK_PREFIX}{rel_type}",
                    {"color": PREDICTED, "shaft-width": "3px", "font-size": "9px",
                     "text-color-external": PREDICTED}))
    return out


def grass(spec: GraphSpec) -> str:
    """The style as a file: one rule a block."""
    blocks = [f"{selector} {{\n" + "".join(f"  {k}: {v};\n" for k, v in props.items()) + "}"
              for selector, props in rules(spec)]
    return f"/* Neo4j Browser style for graph '{spec.name}' (lmgnn) */\n" + "\n".join(
        blocks) + "\n"


def style_line(spec: GraphSpec) -> str:
    """The one line to paste into Browser's editor."""
    return ":style " + " ".join(
        f"{selector} {{" + " ".join(f"{k}: {v};" for k, v in props.items()) + "}"
        for selector, props in rules(spec))


def shipped(spec_path: Path) -> Path:
    return STYLES / f"{spec_path.stem}.grass"


def main(argv: list[str]) -> None:
    """Regenerate the shipped style of each spec given (default: loaders/specs/*.yaml)."""
    specs = [Path(a) for a in argv] or sorted(
        (Path(__file__).resolve().parents[2] / "loaders" / "specs").glob("*.yaml"))
    for path in specs:
        out = shipped(path)
        out.write_text(grass(load_spec(path)), encoding="utf-8")
        print(out)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The Browser style generated from a spec, and the shipped files made from loaders/specs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmgnn.browser.style import grass, rules, shipped, style_line
from lmgnn.spec import load_spec

SPECS = sorted((Path(__file__).resolve().parents[2] / "loaders" / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_shipped_style_is_the_one_generated_from_its_spec(path: Path) -> None:
    assert shipped(path).read_text(encoding="utf-8") == grass(load_spec(path)), (
        "regenerate: python -m lmgnn.browser.style")


def test_captions_come_from_text_else_the_key_and_predictions_stand_apart() -> None:
    spec = load_spec(next(p for p in SPECS if p.stem == "ecommerce"))
    props = dict(rules(spec))
    assert props["node.Query"]["caption"] == "'{text}'"
    assert props["node.Product"]["caption"] == "'{title}'"
    predicted = props["relationship.PREDICTED_PURCHASED"]
    assert predicted["color"] != props["relationship"]["color"]
    assert "relationship.PURCHASED" not in props  # the graph's own links keep the default
    line = style_line(spec)
    assert line.startswith(":style node {") and "\n" not in line
    assert line.count("{") == line.count("}") == len(props) + line.count("'{")


def test_a_type_without_text_is_captioned_by_its_key() -> None:
    spec = load_spec(next(p for p in SPECS if p.stem == "dblp"))
    for label, node in spec.nodes.items():
        expected = node.text[0] if node.text else node.key
        assert dict(rules(spec))[f"node.{label}"]["caption"] == f"'{{{expected}}}'"

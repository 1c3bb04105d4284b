from __future__ import annotations

import pytest

from lmgnn.errors import UserError
from lmgnn.spec_store import require_spec
from lmgnn.train.splits import edge_split, node_split


def test_node_split_is_written_once_and_reused(tiny_shop) -> None:
    spec = require_spec(tiny_shop.driver, tiny_shop.database)
    first = node_split(tiny_shop.driver, tiny_shop.database, spec, "Product", seed=1)
    assert first.train.numel() + first.valid.numel() + first.test.numel() == 120
    assert first.train.numel() == 96 and first.valid.numel() == 12
    stored = tiny_shop.run("MATCH (p:Product) RETURN p._split AS s, count(*) AS n ORDER BY s")
    assert {r["s"]: r["n"] for r in stored} == {"test": 12, "train": 96, "valid": 12}
    # another seed later must not move any node: the graph's split wins
    again = node_split(tiny_shop.driver, tiny_shop.database, spec, "Product", seed=99)
    assert again.train.tolist() == first.train.tolist()
    assert again.test.tolist() == first.test.tolist()


def test_edge_split_on_relationships(tiny_shop) -> None:
    spec = require_spec(tiny_shop.driver, tiny_shop.database)
    split = edge_split(tiny_shop.driver, tiny_shop.database, spec, ("Query", "PURCHASED",
                                                                    "Product"), seed=3)
    total = len(split.train) + len(split.valid) + len(split.test)
    assert total == 240 and split.train.pairs.size(0) == 2
    rows = tiny_shop.run("MATCH ()-[r:PURCHASED]->() WHERE r._split IS NULL RETURN count(r) AS n")
    assert rows[0]["n"] == 0
    # the pairs returned for test are really test relationships in the graph
    s, d = split.test.pairs[:, 0].tolist()
    got = tiny_shop.run("MATCH (q:Query {_nid: $s})-[r:PURCHASED]->(p:Product {_nid: $d}) "
                        "RETURN r._split AS split", s=s, d=d)
    assert got[0]["split"] == "test"


def test_bad_split_values_are_reported(tiny_shop) -> None:
    spec = require_spec(tiny_shop.driver, tiny_shop.database)
    tiny_shop.run("MATCH (p:Product {_nid: 3}) SET p._split = 'training'")
    with pytest.raises(UserError, match=r"Product\._split.*training"):
        node_split(tiny_shop.driver, tiny_shop.database, spec, "Product")

"""Each kind of bad input gets one clear error naming file, row and field, and writes nothing.

Every test first loads the valid tiny shop, then loads a corrupted copy: the graph must be
exactly as before (validation runs before the first write).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lmgnn.errors import UserError
from lmgnn.loaders import GraphMismatch, InputError, load_graph
from lmgnn.spec import SpecError, load_spec
from lmgnn.spec_store import stored_spec

from .shop_files import FILES, graph_state, write_shop


@pytest.fixture
def loaded(neo4j_db, tmp_path: Path):
    """The valid shop loaded; returns the graph state to compare against."""
    spec = load_spec(write_shop(tmp_path / "good"))
    load_graph(spec, tmp_path / "good", neo4j_db.driver, neo4j_db.database, progress=False)
    return graph_state(neo4j_db)


def load_bad(neo4j_db, folder: Path, **replace: str | bytes) -> str:
    """Load the shop with ``replace``d files; return the error message."""
    spec = load_spec(write_shop(folder, **replace))
    with pytest.raises(UserError) as err:
        load_graph(spec, folder, neo4j_db.driver, neo4j_db.database, progress=False)
    return str(err.value)


def test_missing_file(neo4j_db, loaded, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    spec = load_spec(write_shop(folder))
    (folder / "judgements.csv").unlink()
    with pytest.raises(InputError, match=r"judgements\.csv: file not found"):
        load_graph(spec, folder, neo4j_db.driver, neo4j_db.database, progress=False)
    assert graph_state(neo4j_db) == loaded


def test_missing_column(neo4j_db, loaded, tmp_path: Path) -> None:
    products = FILES["products.csv"].replace(",brand,", ",maker,")
    message = load_bad(neo4j_db, tmp_path / "bad", **{"products.csv": products})
    assert "products.csv, header row: missing column 'brand'" in message
    assert graph_state(neo4j_db) == loaded


def test_wrong_type(neo4j_db, loaded, tmp_path: Path) -> None:
    purchases = "query_id,product_id,count\nQ1,P1,2\nQ2,P2,two\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"purchases.csv": purchases})
    assert "purchases.csv, row 2, field 'count': expected an integer" in message
    assert "'two'" in message
    assert graph_state(neo4j_db) == loaded


def test_duplicate_key_with_conflicting_values(neo4j_db, loaded, tmp_path: Path) -> None:
    products = FILES["products.csv"] + "P2,Another Title,A cast iron skillet.,Saltbrook,Kitchen\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"products.csv": products})
    assert "products.csv, row 4, field 'title'" in message
    assert "product_id='P2'" in message and "row 2" in message
    assert graph_state(neo4j_db) == loaded


def test_identical_duplicate_rows_collapse(neo4j_db, loaded, tmp_path: Path) -> None:
    products = FILES["products.csv"] + FILES["products.csv"].splitlines(keepends=True)[2]
    purchases = FILES["purchases.csv"] + "Q1,P1,2\n"
    spec = load_spec(write_shop(tmp_path / "dup", **{"products.csv": products,
                                                     "purchases.csv": purchases}))
    load_graph(spec, tmp_path / "dup", neo4j_db.driver, neo4j_db.database, progress=False)
    assert graph_state(neo4j_db) == loaded


def test_relationship_duplicate_with_conflicting_values(neo4j_db, loaded, tmp_path) -> None:
    judgements = FILES["judgements.csv"] + "Q1,P1,Substitute\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"judgements.csv": judgements})
    assert "judgements.csv, row 3, field 'esci'" in message and "row 1" in message
    assert graph_state(neo4j_db) == loaded


def test_dangling_relationship_endpoint(neo4j_db, loaded, tmp_path: Path) -> None:
    purchases = FILES["purchases.csv"] + "Q1,P9,1\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"purchases.csv": purchases})
    assert "purchases.csv, row 4, field 'product_id'" in message
    assert "Product 'P9' is in no Product file" in message
    assert graph_state(neo4j_db) == loaded


def test_empty_text(neo4j_db, loaded, tmp_path: Path) -> None:
    queries = "query_id,text\nQ1,wireless headphones\nQ2,   \n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"queries.csv": queries})
    assert "queries.csv, row 2, field 'text': empty text" in message
    assert graph_state(neo4j_db) == loaded


def test_non_utf8_text(neo4j_db, loaded, tmp_path: Path) -> None:
    products = FILES["products.csv"].replace("A value set.", "A caf\xe9 set.").encode("latin-1")
    message = load_bad(neo4j_db, tmp_path / "bad", **{"products.csv": products})
    assert "products.csv, row 3, field 'description': text is not valid UTF-8" in message
    assert graph_state(neo4j_db) == loaded


def test_empty_key(neo4j_db, loaded, tmp_path: Path) -> None:
    products = FILES["products.csv"] + ",No Key,Text.,Brand,Kitchen\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"products.csv": products})
    assert "products.csv, row 4, field 'product_id': empty value" in message
    assert graph_state(neo4j_db) == loaded


@pytest.mark.parametrize(("broken", "expected"), [
    ("target: Product\n    properties: {count: int}",
     None),  # control: the real spec parses
    ("target: Prodcut\n    properties: {count: int}",
     r"relationships\[0\]\.target: unknown node type 'Prodcut'"),
    ("target: Product\n    properties: {count: integer}",
     r"relationships\[0\]\.properties\.count: unknown type 'integer'"),
])
def test_spec_naming_unknown_types(tmp_path: Path, broken: str, expected: str | None) -> None:
    spec_path = write_shop(tmp_path)
    text = spec_path.read_text()
    original = "target: Product\n    properties: {count: int}"
    assert original in text
    spec_path.write_text(text.replace(original, broken))
    if expected is None:
        assert load_spec(spec_path).relation("PURCHASED").properties == {"count": "int"}
    else:
        with pytest.raises(SpecError, match=expected):
            load_spec(spec_path)


def test_other_graph_in_database_is_refused(neo4j_db, loaded, tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path / "other")
    spec_path.write_text(spec_path.read_text().replace("name: ecommerce", "name: shop2"))
    spec = load_spec(spec_path)
    with pytest.raises(GraphMismatch, match="already holds the graph 'ecommerce'"):
        load_graph(spec, tmp_path / "other", neo4j_db.driver, neo4j_db.database,
                   progress=False)
    assert graph_state(neo4j_db) == loaded


def test_replace_swaps_the_stored_graph_only_after_validation(neo4j_db, loaded,
                                                              tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path / "other", **{"queries.csv": "query_id,text\nQ1,x\nQ2,\n"})
    spec_path.write_text(spec_path.read_text().replace("name: ecommerce", "name: shop2"))
    with pytest.raises(InputError, match="empty text"):
        load_graph(load_spec(spec_path), tmp_path / "other", neo4j_db.driver,
                   neo4j_db.database, progress=False, replace=True)
    assert graph_state(neo4j_db) == loaded  # bad files: the old graph is untouched

    write_shop(tmp_path / "other")
    spec_path.write_text(spec_path.read_text().replace("name: ecommerce", "name: shop2"))
    report = load_graph(load_spec(spec_path), tmp_path / "other", neo4j_db.driver,
                        neo4j_db.database, progress=False, replace=True)
    assert report.created_nodes == 5  # everything was deleted, then loaded afresh
    assert stored_spec(neo4j_db.driver, neo4j_db.database).name == "shop2"


# ---- issue 11: ragged rows, header-only files, 64-bit integers, inf, duplicate names --------

def _dry_run_error(folder: Path, spec_text: tuple[str, str] | None = None,
                   **replace: str | bytes) -> str:
    spec_path = write_shop(folder, **replace)
    if spec_text:
        spec_path.write_text(spec_path.read_text().replace(*spec_text))
    with pytest.raises(UserError) as err:
        load_graph(load_spec(spec_path), folder, None, "", dry_run=True, progress=False)
    return str(err.value)


@pytest.mark.parametrize(("extra", "fields", "hint"), [
    ("P4,Iron Pan,A pan, heavy and black.,Saltbrook,Kitchen\n", 6, "quote a value"),
    ("P4,Iron Pan,A pan.\n", 3, "a field is missing"),
])
def test_ragged_row_is_an_error_not_truncated(neo4j_db, loaded, tmp_path: Path, extra: str,
                                              fields: int, hint: str) -> None:
    products = FILES["products.csv"] + extra
    message = load_bad(neo4j_db, tmp_path / "bad", **{"products.csv": products})
    assert f"products.csv, row 4: {fields} fields, but the header has 5" in message
    assert hint in message
    assert graph_state(neo4j_db) == loaded
    # --dry-run runs the same check (it said "valid" before)
    assert "row 4" in _dry_run_error(tmp_path / "dry", **{"products.csv": products})


def test_quoted_commas_and_newlines_are_not_ragged(tmp_path: Path) -> None:
    products = FILES["products.csv"] + 'P4,"Pan, iron","A pan,\nheavy.",Saltbrook,Kitchen\n'
    spec = load_spec(write_shop(tmp_path, **{"products.csv": products}))
    report = load_graph(spec, tmp_path, None, "", dry_run=True, progress=False)
    assert report.nodes["Product"] == 4


def test_header_only_node_file(neo4j_db, loaded, tmp_path: Path) -> None:
    message = load_bad(neo4j_db, tmp_path / "bad",
                       **{"queries.csv": "query_id,text\n"})
    assert message.startswith("queries.csv: no data rows, only a header")
    assert "'Query'" in message
    assert graph_state(neo4j_db) == loaded


def test_header_only_relationship_file_loads_no_relationships(tmp_path: Path) -> None:
    spec = load_spec(write_shop(tmp_path, **{"judgements.csv": "query_id,product_id,esci\n"}))
    report = load_graph(spec, tmp_path, None, "", dry_run=True, progress=False)
    assert report.relationships["Query-[:JUDGED]->Product"] == 0


@pytest.mark.parametrize("value", ["9223372036854775808", "-9223372036854775809",
                                   "123456789012345678901234567890"])
def test_integer_beyond_64_bits(neo4j_db, loaded, tmp_path: Path, value: str) -> None:
    purchases = f"query_id,product_id,count\nQ1,P1,2\nQ2,P2,{value}\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"purchases.csv": purchases})
    assert "purchases.csv, row 2, field 'count': expected an integer in range" in message
    assert value in message
    assert graph_state(neo4j_db) == loaded


def test_largest_64_bit_integer_is_stored(neo4j_db, tmp_path: Path) -> None:
    purchases = "query_id,product_id,count\nQ1,P1,9223372036854775807\n"
    spec = load_spec(write_shop(tmp_path, **{"purchases.csv": purchases}))
    load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, progress=False)
    assert neo4j_db.run("MATCH ()-[r:PURCHASED]->() RETURN r.count AS c") == [
        {"c": 2**63 - 1}]


def _parquet_purchases(folder: Path, column, spec_text=None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec_path = write_shop(folder)
    table = pa.table({"query_id": ["Q1", "Q2"], "product_id": ["P1", "P2"], "count": column})
    pq.write_table(table, folder / "purchases.parquet")
    text = spec_path.read_text().replace("path: purchases.csv,", "path: purchases.parquet,")
    spec_path.write_text(text.replace(*spec_text) if spec_text else text)
    return spec_path


def test_uint64_parquet_beyond_int64(neo4j_db, loaded, tmp_path: Path) -> None:
    import pyarrow as pa

    spec_path = _parquet_purchases(tmp_path, pa.array([1, 2**63 + 5], pa.uint64()))
    with pytest.raises(InputError) as err:
        load_graph(load_spec(spec_path), tmp_path, neo4j_db.driver, neo4j_db.database,
                   progress=False)
    assert "purchases.parquet, row 2, field 'count': integer out of range" in str(err.value)
    assert graph_state(neo4j_db) == loaded


def test_uint64_parquet_within_int64_loads(tmp_path: Path) -> None:
    import pyarrow as pa

    spec_path = _parquet_purchases(tmp_path, pa.array([1, 2**62], pa.uint64()))
    report = load_graph(load_spec(spec_path), tmp_path, None, "", dry_run=True, progress=False)
    assert report.relationships["Query-[:PURCHASED]->Product"] == 2


FLOAT_COUNT = ("properties: {count: int}", "properties: {count: float}")


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "nan", "1e400"])
def test_float_columns_take_finite_numbers_only(tmp_path: Path, value: str) -> None:
    purchases = f"query_id,product_id,count\nQ1,P1,2.5\nQ2,P2,{value}\n"
    message = _dry_run_error(tmp_path, FLOAT_COUNT, **{"purchases.csv": purchases})
    assert "purchases.csv, row 2, field 'count': expected a" in message
    assert value in message


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_parquet_floats_finite_only(tmp_path: Path, value: float) -> None:
    import pyarrow as pa

    spec_path = _parquet_purchases(tmp_path, pa.array([1.5, value]), FLOAT_COUNT)
    with pytest.raises(InputError, match=r"purchases\.parquet, row 2, field 'count': "
                                         r"expected a finite number"):
        load_graph(load_spec(spec_path), tmp_path, None, "", dry_run=True, progress=False)


def test_empty_float_cell_is_missing_not_an_error(tmp_path: Path) -> None:
    import pyarrow as pa

    spec_path = _parquet_purchases(tmp_path, pa.array([1.5, None], pa.float64()), FLOAT_COUNT)
    load_graph(load_spec(spec_path), tmp_path, None, "", dry_run=True, progress=False)


def test_duplicate_csv_header(neo4j_db, loaded, tmp_path: Path) -> None:
    queries = "query_id,text,text\nQ1,wireless headphones,x\nQ2,cast iron skillet,y\n"
    message = load_bad(neo4j_db, tmp_path / "bad", **{"queries.csv": queries})
    assert message == ("queries.csv, header row: column 'text' appears twice; column names "
                       "must be unique")
    assert graph_state(neo4j_db) == loaded


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path)
    text = spec_path.read_text()
    spec_path.write_text(text.replace("name: ecommerce\n", "name: ecommerce\nname: other\n"))
    with pytest.raises(SpecError, match=r"ecommerce\.yaml, line \d+: key 'name' appears twice "
                                        r"in one mapping \(first on line \d+\)"):
        load_spec(spec_path)

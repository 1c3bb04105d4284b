"""Read CSV, CSV.gz and Parquet files in chunks, as typed columns checked against the spec.

Each chunk comes back as a DataFrame whose columns are spec property names holding typed
values (int64/float64/bool/object str, ``None``/NaN for empty cells) and whose ``row`` numbers
count data rows from 1 (the CSV header is not a row), so every error can name file, row and
field. Bytes that are not UTF-8 are read with ``surrogateescape`` and reported per cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lmgnn.errors import UserError

CHUNK_ROWS = 100_000
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_BAD_UTF8 = re.compile("[\udc80-\udcff]")


class InputError(UserError):
    """A data file is missing, malformed or disagrees with the spec; names file, row, field."""


@dataclass(frozen=True)
class Column:
    """One property read from one file column."""

    prop: str  # property name in the graph (or `_source` / `_target` for endpoints)
    column: str  # column name in the file
    type: str  # spec type: string, int, float, bool
    required: bool = False  # empty cells are an error (keys, endpoints, text)
    text: bool = False  # must be non-blank


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


def read_chunks(path: Path, columns: list[Column], shown: str,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Typed chunks of ``path`` with one column per ``Column.prop`` plus ``row`` (1-based).

    ``shown`` is how errors name the file (the path as written in the spec).
    """
    if not path.is_file():
        raise InputError(f"{shown}: file not found (looked at {path})")
    raw = _parquet_chunks(path, columns, shown, chunk_rows) if is_parquet(path) \
        else _csv_chunks(path, columns, shown, chunk_rows)
    first = 1
    for frame in raw:
        rows = np.arange(first, first + len(frame), dtype=np.int64)
        first += len(frame)
        typed = {c.prop: _typed(frame[c.column], c, rows, shown) for c in columns}
        out = pd.DataFrame(typed, copy=False)
        out["row"] = rows
        yield out


def _check_header(present: list[str], columns: list[Column], shown: str) -> None:
    for c in columns:
        if c.column not in present:
            what = "endpoint key" if c.prop.startswith("_") else f"property {c.prop!r}"
            raise InputError(f"{shown}, header row: missing column {c.column!r} ({what}); "
                             f"columns present: {', '.join(map(str, present)) or 'none'}")


def _csv_chunks(path: Path, columns: list[Column], shown: str,
                chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8", encoding_errors="surrogateescape")
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{shown}: the file is empty (no header row)") from exc
    except (OSError, EOFError, pd.errors.ParserError) as exc:
        raise InputError(f"{shown}: cannot read as CSV: {exc}") from exc
    _check_header(list(header.columns), columns, shown)
    wanted = sorted({c.column for c in columns})
    reader = pd.read_csv(path, usecols=wanted, dtype=object, keep_default_na=False,
                         encoding="utf-8", encoding_errors="surrogateescape",
                         chunksize=chunk_rows)
    first = 1
    try:
        for frame in reader:
            first += len(frame)
            yield frame
    except (OSError, EOFError, pd.errors.ParserError) as exc:
        raise InputError(f"{shown}: malformed CSV after row {first - 1}: {exc}") from exc


def _parquet_chunks(path: Path, columns: list[Column], shown: str,
                    chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        pfile = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{shown}: cannot read as Parquet: {exc}") from exc
    schema = pfile.schema_arrow
    _check_header(list(schema.names), columns, shown)
    for c in columns:
        arrow_type = schema.field(c.column).type
        if not _arrow_fits(arrow_type, c.type):
            raise InputError(f"{shown}, column {c.column!r}: Parquet type {arrow_type} does "
                             f"not fit property {c.prop!r} of type {c.type}")
    wanted = sorted({c.column for c in columns})
    for batch in pfile.iter_batches(batch_size=chunk_rows, columns=wanted):
        yield batch.to_pandas()


def _arrow_fits(arrow_type: pa.DataType, spec_type: str) -> bool:
    t = pa.types
    if spec_type == "string":
        return t.is_string(arrow_type) or t.is_large_string(arrow_type)
    if spec_type == "int":
        return t.is_integer(arrow_type)
    if spec_type == "float":
        return t.is_integer(arrow_type) or t.is_floating(arrow_type)
    return t.is_boolean(arrow_type)


def _typed(values: pd.Series, col: Column, rows: np.ndarray, shown: str) -> pd.Series:
    """Convert one column to its spec type; InputError names the first bad cell."""
    values = values.reset_index(drop=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = values.astype(object)
        missing = values.isna().to_numpy() | (values.map(_is_blank).to_numpy())
    else:
        missing = values.isna().to_numpy()
    if col.required and missing.any():
        i = int(np.argmax(missing))
        what = "empty text" if col.text else "empty value"
        raise InputError(f"{shown}, row {rows[i]}, field {col.column!r}: {what} "
                         f"(property {col.prop!r} must not be empty)")
    if col.type == "string":
        return _strings(values, missing, col, rows, shown)
    if values.dtype != object:  # Parquet numbers and bools: the schema check passed
        return _arrow_numbers(values, col)
    present = ~missing
    text = values.where(present, "").astype(str)
    if col.type == "int":
        ok = text.str.match(_INT).to_numpy() | missing
        _first_bad(ok, rows, col, values, shown, "an integer")
        out = pd.array([int(v) if p else None for v, p in zip(text, present, strict=True)],
                       dtype="Int64")
        return pd.Series(out)
    if col.type == "float":
        numbers = pd.to_numeric(text.where(present, None), errors="coerce")
        ok = numbers.notna().to_numpy() | missing
        _first_bad(ok, rows, col, values, shown, "a number")
        return numbers.astype("float64")
    lowered = text.str.strip().str.lower()
    ok = lowered.isin(list(_BOOL)).to_numpy() | missing
    _first_bad(ok, rows, col, values, shown, "true/false")
    return pd.Series(pd.array([_BOOL[v] if p else None
                               for v, p in zip(lowered, present, strict=True)], dtype="boolean"))


def _strings(values: pd.Series, missing: np.ndarray, col: Column, rows: np.ndarray,
             shown: str) -> pd.Series:
    present = ~missing
    bad = np.zeros(len(values), dtype=bool)
    bad[present] = values[present].map(lambda v: bool(_BAD_UTF8.search(v))).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{shown}, row {rows[i]}, field {col.column!r}: text is not valid "
                         f"UTF-8 ({values[i]!a}); re-save the file as UTF-8")
    return values.where(present, None)


def _arrow_numbers(values: pd.Series, col: Column) -> pd.Series:
    if col.type == "int":
        return values.astype("Int64")
    if col.type == "float":
        return values.astype("float64")
    return values.astype("boolean")


def _first_bad(ok: np.ndarray, rows: np.ndarray, col: Column, values: pd.Series, shown: str,
               expected: str) -> None:
    if not ok.all():
        i = int(np.argmin(ok))
        raise InputError(f"{shown}, row {rows[i]}, field {col.column!r}: expected {expected} "
                         f"(property {col.prop!r} is {col.type}), got {values[i]!r}")


def _is_blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def python_values(series: pd.Series) -> list[object]:
    """Plain Python values for Bolt parameters (None for missing)."""
    if series.dtype == object:
        return series.tolist()
    obj = series.astype(object)
    return obj.where(series.notna(), None).tolist()


def key_array(series: pd.Series) -> np.ndarray:
    """Keys as a plain numpy array (int64 for int keys, Python str otherwise) for lookups."""
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype=np.int64)
    return series.to_numpy(dtype=object)

"""Read CSV, CSV.gz and Parquet files in chunks, as typed columns checked against the spec.

Each chunk comes back as a DataFrame whose columns are spec property names holding typed
values (int64/float64/bool/object str, ``None``/NaN for empty cells) and whose ``row`` numbers
count data rows from 1 (the CSV header is not a row), so every error can name file, row and
field. Bytes that are not UTF-8 are read with ``surrogateescape`` and reported per cell.

Rules every file meets or the load stops with an error naming file, row and field: column
names are unique; every CSV row has as many fields as the header (an unquoted comma in a text
would otherwise shift or drop the rest of the row); integers fit 64 bits (Neo4j's integer);
floats are finite (``nan``, ``inf`` and ``-inf`` are refused in CSV and Parquet alike: leave the
cell empty for a missing value).
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lmgnn.errors import UserError

CHUNK_ROWS = 100_000
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_BAD_UTF8 = re.compile("[\udc80-\udcff]")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_FINITE_HINT = ("nan and inf are not stored (one rule for CSV and Parquet): leave the cell "
                "empty for a missing value")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long texts are fine


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
        if not len(frame):
            continue  # a header-only file holds no rows (the caller decides if that is fine)
        rows = np.arange(first, first + len(frame), dtype=np.int64)
        first += len(frame)
        typed = {c.prop: _typed(frame[c.column], c, rows, shown) for c in columns}
        out = pd.DataFrame(typed, copy=False)
        out["row"] = rows
        yield out


def _check_header(present: list[str], columns: list[Column], shown: str) -> None:
    seen: set[str] = set()
    for name in present:
        if name in seen:
            raise InputError(f"{shown}, header row: column {name!r} appears twice; column "
                             "names must be unique")
        seen.add(name)
    for c in columns:
        if c.column not in present:
            what = "endpoint key" if c.prop.startswith("_") else f"property {c.prop!r}"
            raise InputError(f"{shown}, header row: missing column {c.column!r} ({what}); "
                             f"columns present: {', '.join(map(str, present)) or 'none'}")


def _csv_chunks(path: Path, columns: list[Column], shown: str,
                chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:  # header=None: the names as written (pandas would rename a repeated `a` to `a.1`)
        header = pd.read_csv(path, nrows=1, header=None, dtype=object, keep_default_na=False,
                             encoding="utf-8", encoding_errors="surrogateescape")
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{shown}: the file is empty (no header row)") from exc
    except (OSError, EOFError, pd.errors.ParserError) as exc:
        raise InputError(f"{shown}: cannot read as CSV: {exc}") from exc
    names = [str(v) for v in header.iloc[0].tolist()] if len(header) else []
    _check_header(names, columns, shown)
    check_field_counts(path, shown, len(names))
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


def check_field_counts(path: Path, shown: str, expected: int) -> None:
    """Every row has ``expected`` fields; else InputError naming the first ragged row.

    pandas' ``usecols`` drops extra fields and pads missing ones with empty strings, so this
    is a separate pass (the csv module parses as fast as pandas does here).
    """
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="surrogateescape", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)  # the header
            row = 0
            for fields in reader:
                if not fields:
                    continue  # blank lines are skipped, as pandas skips them
                row += 1
                if len(fields) != expected:
                    hint = ("quote a value that contains a comma (\"a, b\")"
                            if len(fields) > expected else "a field is missing")
                    raise InputError(f"{shown}, row {row}: {len(fields)} fields, but the "
                                     f"header has {expected}; {hint}")
    except (OSError, EOFError, csv.Error) as exc:
        raise InputError(f"{shown}: cannot read as CSV: {exc}") from exc


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
    first = 1
    for batch in pfile.iter_batches(batch_size=chunk_rows, columns=wanted):
        for c in columns:
            _check_arrow_values(batch.column(c.column), c, first, shown)
        first += batch.num_rows
        yield batch.to_pandas()


def _check_arrow_values(values: pa.Array, col: Column, first: int, shown: str) -> None:
    """Parquet integers must fit int64 (uint64 may not); floats must be finite."""
    t = values.type
    if pa.types.is_unsigned_integer(t) and t.bit_width == 64:
        bad = pc.fill_null(pc.greater(values, pa.scalar(INT64_MAX, t)), False)
        what = f"integer out of range ({_INT_RANGE})"
    elif pa.types.is_floating(t) and col.type == "float":
        bad = pc.fill_null(pc.invert(pc.is_finite(values)), False)
        what = f"expected a finite number ({_FINITE_HINT})"
    else:
        return
    if pc.any(bad).as_py():
        i = pc.index(bad, True).as_py()
        raise InputError(f"{shown}, row {first + i}, field {col.column!r}: {what}, got "
                         f"{values[i].as_py()!r}")


_INT_RANGE = "Neo4j integers are 64-bit: -2^63 to 2^63-1"


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
        missing = values.isna().to_numpy() | _blank(values)
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
        ints = [int(v) if p else None for v, p in zip(text, present, strict=True)]
        ok = np.array([v is None or INT64_MIN <= v <= INT64_MAX for v in ints], dtype=bool)
        _first_bad(ok, rows, col, values, shown, f"an integer in range ({_INT_RANGE})")
        return pd.Series(pd.array(ints, dtype="Int64"))
    if col.type == "float":
        numbers = pd.to_numeric(text.where(present, None), errors="coerce")
        ok = numbers.notna().to_numpy() | missing
        _first_bad(ok, rows, col, values, shown, "a number")
        ok = np.isfinite(numbers.to_numpy(dtype="float64", na_value=0.0))
        _first_bad(ok, rows, col, values, shown, f"a finite number ({_FINITE_HINT})")
        return numbers.astype("float64")
    lowered = text.str.strip().str.lower()
    ok = lowered.isin(list(_BOOL)).to_numpy() | missing
    _first_bad(ok, rows, col, values, shown, "true/false")
    return pd.Series(pd.array([_BOOL[v] if p else None
                               for v, p in zip(lowered, present, strict=True)], dtype="boolean"))


def _strings(values: pd.Series, missing: np.ndarray, col: Column, rows: np.ndarray,
             shown: str) -> pd.Series:
    present = ~missing
    if _encodes(_joined(values[present])):
        return values.where(present, None)  # the whole column encodes: no bad bytes in it
    bad = np.zeros(len(values), dtype=bool)
    bad[present] = values[present].map(lambda v: bool(_BAD_UTF8.search(v))).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{shown}, row {rows[i]}, field {col.column!r}: text is not valid "
                         f"UTF-8 ({values[i]!a}); re-save the file as UTF-8")
    return values.where(present, None)


def _arrow_numbers(values: pd.Series, col: Column) -> pd.Series:
    if col.type == "int":  # uint64 beyond int64 was refused in _check_arrow_values
        return values.astype("int64" if values.dtype == np.uint64 else values.dtype
                             ).astype("Int64")
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


_SEP = "\x00"
# a blank cell between two others, or first, or last (each pattern starts with a literal or is
# anchored, so the scan runs at C speed: one alternation at the front measured 2 s at 1M rows)
_BLANK_INSIDE = re.compile(r"\x00\s*\x00")
_BLANK_FIRST = re.compile(r"\s*(?:\x00|\Z)")
_BLANK_LAST = re.compile(r"\x00\s*\Z")


def _encodes(joined: str | None) -> bool:
    """True when ``joined`` holds no surrogate, so none of the escapes that stand for bytes
    that are not UTF-8 (``surrogateescape``); one C-speed encode instead of a regex scan."""
    if joined is None:
        return False
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return _BAD_UTF8.search(joined) is None  # other surrogates are not bad bytes
    return True


def _joined(values: pd.Series) -> str | None:
    """The cells joined by NUL (one string a regex scans in C), or None when a cell is not a
    string or holds NUL itself (then the per-cell checks decide)."""
    try:
        joined = _SEP.join(values.tolist())
    except TypeError:
        return None
    return joined if joined.count(_SEP) == max(0, len(values) - 1) else None


def _blank(values: pd.Series) -> np.ndarray:
    """Which cells are strings of whitespace only (or empty): one regex scan over the whole
    column when it finds none, the usual case; else cell by cell (measured: the per-cell map
    was a third of reading a 1M-row shop)."""
    joined = _joined(values)
    if joined is not None and not (_BLANK_INSIDE.search(joined) or _BLANK_FIRST.match(joined)
                                   or _BLANK_LAST.search(joined)):
        return np.zeros(len(values), dtype=bool)
    return values.map(_is_blank).to_numpy(dtype=bool)


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

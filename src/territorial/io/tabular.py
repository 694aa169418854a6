"""Read CSV and Parquet files into typed Polars frames, and write frames back.

Reading happens in two steps so that a million-row file never becomes a million Python
objects:

1. :func:`read_table` loads every column as text (``pyarrow.csv`` for CSV, because it
   reports ragged rows instead of silently padding them; ``polars`` for Parquet) and
   checks what is wrong with the file as a whole: its extension, its encoding (UTF-8,
   a byte-order mark is accepted silently), its header and rows whose field count
   differs from the header's. Only an empty cell is empty: ``NA``, ``N/A``, ``null``,
   ``None`` and ``NaN`` are text (``NA`` is Namibia's country code and a common
   territory name), unlike the defaults of pyarrow and pandas.
2. :func:`parse_columns` casts the text columns to their field types with vectorised
   expressions and reports every value that does not fit, with its row.

Rows are numbered like lines of the file: the header is row 1, so the first record is
row 2. When values contain line breaks (or blank lines are skipped) the true line of
each record is found with a second, exact pass over the file, only when a problem has
to be reported. Parquet rows are numbered the same way (first record = row 2), so the
numbers match those of the equivalent CSV file.

>>> import polars as pl
>>> frame = pl.DataFrame({"revenue": ["10", "1,000", None]})
>>> typed, problems = parse_columns(frame, {"revenue": FieldType.NUMBER})
>>> typed["revenue"].to_list()
[10.0, None, None]
>>> problems[0].row, problems[0].message
(3, "'1,000' is not a number")
>>> problems[0].hint
'write numbers without thousands separators: 1000, not 1,000'
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from territorial.core.fields import FieldType
from territorial.errors import InputFileError, Problem

SUPPORTED_SUFFIXES = (".csv", ".parquet")
MAX_PROBLEMS = 100
BOM = b"\xef\xbb\xbf"

_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")
_ISO_DATE = r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_PLAIN_NUMBER = r"^[+-]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$"
"""What :func:`infer_type` takes for a number: no leading zeros, no exponent."""
_HINTS = {
    FieldType.NUMBER: "use digits with an optional '.' decimal point, e.g. 1250000.50",
    FieldType.DATE: "use ISO dates such as 2026-01-31",
    FieldType.BOOLEAN: "use true/false, 1/0 or yes/no",
}


@dataclass
class Table:
    """A file read as text columns, keeping what is needed to point at its rows."""

    path: Path
    frame: pl.DataFrame
    """One String column per file column, named as in the header; empty values are null."""
    _text: str | None = field(default=None, repr=False)
    _lines: list[int] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.path)

    def rows(self, indexes: Sequence[int]) -> list[int]:
        """The file rows (header = 1) of records given by 0-based index in ``frame``."""
        lines = self._record_lines()
        if lines is None:
            return [i + 2 for i in indexes]
        return [lines[i] for i in indexes]

    def _record_lines(self) -> list[int] | None:
        if self._text is None:
            return None
        if self._lines is None:
            simple = self._text.count("\n") - self._text.endswith("\n") == self.frame.height
            self._lines = [] if simple else _scan(self._text)[0]
        return self._lines or None


def fail(
    path: Path | str,
    message: str,
    *,
    row: int | None = None,
    column: str | None = None,
    hint: str | None = None,
) -> InputFileError:
    """An :class:`InputFileError` with a single problem (raise the result)."""
    return InputFileError(str(path), [Problem(message, row=row, column=column, hint=hint)])


def read_table(path: Path | str) -> Table:
    """Read a ``.csv`` or ``.parquet`` file as text columns, or raise :class:`InputFileError`.

    Parameters
    ----------
    path
        The file. Its extension decides the format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = file.write_bytes(b"\\xef\\xbb\\xbfId,Name\\n001,Acme\\n")
    >>> read_table(file).frame.rows()
    [('001', 'Acme')]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise fail(
            path,
            f"unsupported file type {suffix or '(none)'!r}",
            hint="save the data as .csv (UTF-8) or .parquet",
        )
    if not path.is_file():
        raise fail(path, "file not found", hint="check the path")
    if suffix == ".parquet":
        return _read_parquet(path)
    return _read_csv(path)


def _read_parquet(path: Path) -> Table:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise fail(path, f"cannot read Parquet: {err}", hint="check the file is Parquet") from err
    problems = [
        Problem(f"unsupported column type {dtype}", column=name, hint="use plain columns")
        for name, dtype in frame.schema.items()
        if dtype.is_nested()
    ]
    if problems:
        raise InputFileError(str(path), problems)
    return Table(path, frame.select(_as_text(name, dtype) for name, dtype in frame.schema.items()))


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if dtype == pl.Boolean:
        return column.replace_strict({True: "true", False: "false"}, return_dtype=pl.String)
    return column.cast(pl.String)


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        byte = data[err.start : err.start + 1].hex()
        raise fail(
            path,
            f"not UTF-8 text: byte 0x{byte} at line {line} (byte offset {err.start})",
            row=line,
            hint="re-save the file as 'CSV UTF-8' (Excel) or convert it with "
            "'iconv -f latin1 -t utf-8'",
        ) from err


def _header(path: Path, text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text[: 1 << 20], newline="")), None)
    if not first or not any(name.strip() for name in first):
        raise fail(
            path,
            "the file is empty or has no header row",
            hint="the first line must name the columns",
        )
    names = [name.strip() for name in first]
    problems = [
        Problem("column has no name", row=1, column=f"#{i + 1}", hint="name it or delete it")
        for i, name in enumerate(names)
        if not name
    ]
    seen: set[str] = set()
    for name in names:
        if name and name.lower() in seen:
            problems.append(
                Problem("column appears twice", row=1, column=name, hint="keep one of them")
            )
        seen.add(name.lower())
    if problems:
        raise InputFileError(str(path), problems)
    return names


def _read_csv(path: Path) -> Table:
    text = _decode(path, path.read_bytes())
    names = _header(path, text)
    positional = [f"c{i}" for i in range(len(names))]
    ragged: list[int] = []

    def _skip(row: pa_csv.InvalidRow) -> str:
        ragged.append(row.actual_columns)
        return "skip"

    try:
        arrow = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=positional, skip_rows=1),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values='"' in text, invalid_row_handler=_skip
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(positional, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as err:
        raise fail(path, f"cannot parse CSV: {err}", hint="check quoting") from err
    if ragged:
        raise InputFileError(str(path), _ragged_problems(text, len(names)))
    frame = pl.DataFrame(pl.from_arrow(arrow)).rename(dict(zip(positional, names, strict=True)))
    return Table(path, frame, _text=text)


def _scan(text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Exact pass: the first line of each well-formed record, and (line, fields) of ragged ones."""
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(text, newline=""))
    width = len(next(reader, []))
    end = reader.line_num
    starts: list[int] = []
    ragged: list[tuple[int, int]] = []
    for record in reader:
        start, end = end + 1, reader.line_num
        if not record:
            continue
        if len(record) == width:
            starts.append(start)
        else:
            ragged.append((start, len(record)))
    return starts, ragged


def _ragged_problems(text: str, width: int) -> list[Problem]:
    return [
        Problem(
            f"has {count} fields but the header has {width}",
            row=line,
            hint="quote values that contain commas and give every row one value per column",
        )
        for line, count in _scan(text)[1][:MAX_PROBLEMS]
    ]


def _parse(column: str, ftype: FieldType) -> tuple[pl.Expr, pl.Expr, str]:
    """(typed value, bad-value mask, message) expressions for one text column."""
    raw = pl.col(column)
    value = raw.str.strip_chars()
    present = value.is_not_null() & (value != "")
    if ftype is FieldType.NUMBER:
        number = value.cast(pl.Float64, strict=False)
        bad = present & (number.is_null() | number.is_nan() | number.is_infinite())
        return number, bad, "{value!r} is not a number"
    if ftype is FieldType.DATE:
        day = value.str.extract(_ISO_DATE).str.to_date("%Y-%m-%d", strict=False)
        return day, present & day.is_null(), "{value!r} is not a date"
    if ftype is FieldType.BOOLEAN:
        lower = value.str.to_lowercase()
        flag = pl.when(lower.is_in(_TRUE)).then(True).when(lower.is_in(_FALSE)).then(False)
        return flag.fill_null(False), present & flag.is_null(), "{value!r} is not true or false"
    text = pl.when(present).then(raw)
    return text, pl.lit(False), ""


def parse_columns(
    frame: pl.DataFrame,
    types: dict[str, FieldType],
    *,
    table: Table | None = None,
    labels: dict[str, str] | None = None,
) -> tuple[pl.DataFrame, list[Problem]]:
    """Cast text columns to their field types; list every value that does not fit.

    Numbers take digits, sign, '.', exponent (no thousands separators); dates are ISO
    (``2026-01-31``, also Salesforce date-times such as ``2026-01-31T00:00:00.000+0000``,
    of which the date is kept); booleans are true/false, 1/0, yes/no in any case, and an
    empty boolean is false. Empty values are null. Columns not in ``types`` are dropped.
    """
    table = table or Table(Path("<frame>"), frame)
    labels = labels or {}
    exprs = {name: _parse(name, ftype) for name, ftype in types.items()}
    typed = frame.select(expr.alias(name) for name, (expr, _, _) in exprs.items())
    masks = frame.select(bad.alias(name) for name, (_, bad, _) in exprs.items())
    problems: list[Problem] = []
    for name, (_, _, msg) in exprs.items():
        mask = masks[name]
        if not mask.any() or len(problems) >= MAX_PROBLEMS:
            continue
        label = labels.get(name, name)
        found = bad_rows(table, frame, mask, name, label, msg, _HINTS.get(types[name]))
        if types[name] is FieldType.NUMBER:
            found = [_thousands_hint(p) for p in found]
        problems.extend(found)
    return typed, problems[:MAX_PROBLEMS]


def bad_rows(
    table: Table,
    frame: pl.DataFrame,
    mask: pl.Series,
    column: str,
    label: str,
    message: str,
    hint: str | None,
) -> list[Problem]:
    """One problem per True in ``mask`` (capped), naming the value found in ``column``.

    ``frame`` holds the file's records in file order; ``label`` is the column as the
    file names it; ``message`` may use ``{value}``.
    """
    hits = frame.select(pl.int_range(pl.len()).alias("_i"), pl.col(column).alias("_v"))
    hits = hits.filter(mask).head(MAX_PROBLEMS)
    rows = table.rows(hits["_i"].to_list())
    return [
        Problem(message.format(value=value), row=row, column=label, hint=hint)
        for row, value in zip(rows, hits["_v"].to_list(), strict=True)
    ]


def _thousands_hint(problem: Problem) -> Problem:
    if "," not in problem.message:
        return problem
    value = problem.message.split("'")[1] if "'" in problem.message else ""
    plain = value.replace(",", "")
    return Problem(
        problem.message,
        row=problem.row,
        column=problem.column,
        hint=f"write numbers without thousands separators: {plain}, not {value}",
    )


def infer_type(values: pl.Series) -> FieldType:
    """The narrowest type all non-empty values fit: number, date, boolean, else text.

    A column is a number only when every value is a plain decimal (optional sign,
    digits, optional decimal part) without leading zeros or exponent: Salesforce ids
    such as ``00e000000000001`` and codes such as ``007`` stay text, so nothing is lost.

    >>> infer_type(pl.Series(["1", "-2.5", "0.75", None]))
    <FieldType.NUMBER: 'number'>
    >>> infer_type(pl.Series(["00e000000000001", "001e00000000001"]))
    <FieldType.TEXT: 'text'>
    >>> infer_type(pl.Series(["007", "12"]))
    <FieldType.TEXT: 'text'>
    >>> infer_type(pl.Series(["yes", "No"]))
    <FieldType.BOOLEAN: 'boolean'>
    >>> infer_type(pl.Series(["2026-01-31", ""]))
    <FieldType.DATE: 'date'>
    """
    frame = values.cast(pl.String).to_frame("v")
    value = pl.col("v").str.strip_chars()
    present = value.is_not_null() & (value != "")
    if not frame.select(present.any()).item():
        return FieldType.TEXT
    if not frame.select((present & ~value.str.contains(_PLAIN_NUMBER)).any()).item():
        return FieldType.NUMBER
    for ftype in (FieldType.DATE, FieldType.BOOLEAN):
        _, bad, _ = _parse("v", ftype)
        if not frame.select(bad.any()).item():
            return ftype
    return FieldType.TEXT


def csv_text(frame: pl.DataFrame) -> str:
    """``frame`` as CSV text, as every CSV Territorial writes (a file or standard output):
    a header row, ISO dates, ``true``/``false``, empty for null, ``\n`` line ends.

    >>> print(csv_text(pl.DataFrame({"unit": ["West"], "share": [0.5], "ok": [True]})), end="")
    unit,share,ok
    West,0.5,true
    """
    return frame.write_csv(date_format="%Y-%m-%d")


def write_table(frame: pl.DataFrame, path: Path | str) -> None:
    """Write ``frame`` as ``.csv`` (:func:`csv_text`, UTF-8) or ``.parquet``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.write_parquet(path)
    elif suffix == ".csv":
        path.write_text(csv_text(frame), encoding="utf-8", newline="")
    else:
        raise fail(
            path,
            f"unsupported file type {suffix or '(none)'!r}",
            hint="name the output file .csv or .parquet",
        )


__all__ = [
    "MAX_PROBLEMS",
    "SUPPORTED_SUFFIXES",
    "Table",
    "bad_rows",
    "csv_text",
    "fail",
    "infer_type",
    "parse_columns",
    "read_table",
    "write_table",
]

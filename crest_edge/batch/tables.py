"""Reading and writing the batch job's tables: JSONL, CSV and Parquet, chosen by extension.

Readers stream records (dicts of the row's fields) in order and never hold the whole input. Writers
append a chunk of rows and make it durable before they return the resume position (see journal).
JSONL and CSV are appended in place; a Parquet file is unreadable until its footer is written, so
each chunk becomes a part file beside the output (written, fsynced, renamed into place) and the
parts are merged into the output, row group by row group, when the last chunk is done.
"""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..errors import CrestEdgeError
from ..extras import require
from ..registry import TABLE_FORMATS
from ..rows import MAX_LINE, read_rows
from .results import ADDED_FIELDS, RESULT_TYPES, ROW_FIELD

_GROUP_ROWS = 4096  # rows per group read from a CSV or Parquet input
_COUNT_READ = 1 << 20


def table_format(path: Path, role: str) -> str:
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(TABLE_FORMATS)
        raise CrestEdgeError(f"{role} {path}: cannot tell the format from its extension; use one of {known}")
    return fmt


def check_no_added_fields(where: str, fields) -> None:
    clash = [name for name in ADDED_FIELDS if name in fields]
    if clash:
        raise CrestEdgeError(
            f"{where} already has the field {clash[0]!r} the batch job adds (a crest-edge output? "
            "classify its input instead, or rename the field)"
        )


# ---- readers


class TableReader:
    """The records of one input file, in order; `columns` is the header or schema (None for JSONL)."""

    def __init__(self, path: Path, text_field: str):
        if not path.is_file():
            raise CrestEdgeError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        self.path, self.text_field = path, text_field
        self.format = table_format(path, "--input")
        self.columns = None
        self._parquet = None
        if self.format == "csv":
            self.columns = self._csv_header()
        elif self.format == "parquet":
            self._parquet = _open_parquet(path, text_field)
            self.columns = self._parquet.schema_arrow.names
        if self.columns is not None:
            if text_field not in self.columns:
                raise CrestEdgeError(f"{path}: no column {text_field!r} (it has {', '.join(self.columns)})")
            check_no_added_fields(str(path), self.columns)

    def estimated_rows(self) -> int:
        """The row count: exact for Parquet, the line count for JSONL and CSV (blank lines and quoted
        line breaks make it an estimate, good enough for an ETA)."""
        if self._parquet is not None:
            return self._parquet.metadata.num_rows
        lines, last = 0, b"\n"
        with open(self.path, "rb") as handle:
            while chunk := handle.read(_COUNT_READ):
                lines, last = lines + chunk.count(b"\n"), chunk[-1:]
        lines += last != b"\n"
        return max(lines - (self.format == "csv"), 0)

    def records(self, skip: int = 0) -> Iterator[list[dict]]:
        """Groups of records after the first `skip`."""
        source = {"jsonl": self._jsonl, "csv": self._csv, "parquet": self._parquet_records}[self.format]
        yield from _skipping(source(skip), skip if self.format != "parquet" else 0)

    def _jsonl(self, skip: int) -> Iterator[list[dict]]:
        for group in read_rows(str(self.path), self.text_field, jsonl=True, keep_bad=True):
            yield [row.record for row in group]

    def _csv_header(self) -> list[str]:
        with self._csv_file() as handle:
            try:
                header = next(csv.reader(handle), None)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise CrestEdgeError(f"{self.path}: not a readable CSV header ({exc})") from None
        if not header:
            raise CrestEdgeError(f"{self.path}: no header line (an empty CSV?)")
        return header

    def _csv_file(self):
        csv.field_size_limit(MAX_LINE)  # the default (128 KiB) would refuse a long message
        return open(self.path, encoding="utf-8-sig", newline="")

    def _csv(self, skip: int) -> Iterator[list[dict]]:
        with self._csv_file() as handle:
            reader = csv.reader(handle)
            group, number = [], 0
            try:
                header = next(reader)
                for number, values in enumerate(reader, 1):
                    if len(values) != len(header):
                        raise CrestEdgeError(
                            f"{self.path}: record {number} (line {reader.line_num}) has {len(values)} fields, "
                            f"the header has {len(header)}"
                        )
                    group.append(dict(zip(header, values)))
                    if len(group) >= _GROUP_ROWS:
                        yield group
                        group = []
            except csv.Error as exc:
                raise CrestEdgeError(f"{self.path}: line {reader.line_num} is not valid CSV ({exc})") from None
            except UnicodeDecodeError as exc:
                raise CrestEdgeError(f"{self.path}: not UTF-8 text after record {number} ({exc.reason})") from None
            if group:
                yield group
            if number == 0:
                raise CrestEdgeError(f"{self.path}: a header and no rows")

    def _parquet_records(self, skip: int) -> Iterator[list[dict]]:
        """Whole row groups before `skip` are not read at all."""
        metadata, first, before = self._parquet.metadata, 0, 0
        while first < metadata.num_row_groups and before + metadata.row_group(first).num_rows <= skip:
            before += metadata.row_group(first).num_rows
            first += 1
        groups = list(range(first, metadata.num_row_groups))
        if not groups:
            return
        batches = self._parquet.iter_batches(batch_size=_GROUP_ROWS, row_groups=groups)
        yield from _skipping((batch.to_pylist() for batch in batches), skip - before)


def _skipping(groups: Iterator[list[dict]], skip: int) -> Iterator[list[dict]]:
    for group in groups:
        if skip >= len(group):
            skip -= len(group)
            continue
        yield group[skip:]
        skip = 0


def _open_parquet(path: Path, text_field: str):
    pa, pq = require("pyarrow", "Parquet"), require("pyarrow.parquet", "Parquet")
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise CrestEdgeError(f"{path}: not a readable Parquet file ({exc})") from None
    schema = parquet.schema_arrow
    if text_field in schema.names:
        kind = schema.field(text_field).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
            raise CrestEdgeError(f"{path}: column {text_field!r} holds {kind}, not text")
    return parquet


# ---- writers


def open_writer(output: Path, journal, reader: TableReader):
    fmt = table_format(output, "--output")
    if fmt == "parquet":
        return PartsWriter(output, journal, reader)
    return TextWriter(output, journal, fmt)


class TextWriter:
    """JSONL or CSV appended in place; opening it cuts off whatever lies past the journal's position."""

    def __init__(self, output: Path, journal, fmt: str):
        self.output, self.journal, self.format = output, journal, fmt
        if journal.rows == 0 and journal.position == 0:
            self.handle = open(output, "wb")
        else:
            self.handle = open(output, "r+b")
            if os.fstat(self.handle.fileno()).st_size < journal.position:
                self.handle.close()
                raise CrestEdgeError(f"{output} is shorter than its record says: it was changed; start over")
            self.handle.truncate(journal.position)
            self.handle.seek(journal.position)

    def write(self, rows: list[dict], first_index: int) -> int:
        data = self._jsonl(rows) if self.format == "jsonl" else self._csv(rows, first_index)
        self.handle.write(data.encode("utf-8"))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def finish(self) -> None:
        self.handle.close()

    def close(self) -> None:
        self.handle.close()

    def _jsonl(self, rows: list[dict]) -> str:
        try:
            return "".join(
                json.dumps(row, ensure_ascii=False, allow_nan=False, default=_json_value) + "\n" for row in rows
            )
        except ValueError as exc:  # NaN or infinity in an input field: JSON has no spelling for them
            raise CrestEdgeError(f"a row in this chunk cannot be written as JSON ({exc})") from None

    def _csv(self, rows: list[dict], first_index: int) -> str:
        text = io.StringIO()
        if self.journal.columns is None:
            self.journal.columns = list(rows[0])
            csv.writer(text).writerow(self.journal.columns)
        columns = set(self.journal.columns)
        writer = csv.writer(text)
        for offset, row in enumerate(rows):
            if not columns.issuperset(row):
                extra = ", ".join(repr(name) for name in row if name not in columns)
                raise CrestEdgeError(
                    f"row {first_index + offset} has fields the first row lacked ({extra}): a CSV has one "
                    "header; write JSONL or Parquet instead"
                )
            writer.writerow(_csv_value(row.get(name)) for name in self.journal.columns)
        return text.getvalue()


def _json_value(value):
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)  # Decimal and the like


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=_json_value)
    return value


class PartsWriter:
    """Parquet: one part file per chunk in `OUT.parts/`, merged into OUT at the end. The schema is the
    input's (Parquet), else inferred from the first chunk, plus the result columns."""

    def __init__(self, output: Path, journal, reader: TableReader):
        self.pa, self.pq = require("pyarrow", "Parquet"), require("pyarrow.parquet", "Parquet")
        self.output, self.journal = output, journal
        self.parts = parts_dir(output)
        self.parts.mkdir(exist_ok=True)
        for stale in self.parts.iterdir():  # parts written after the last record, and torn temporaries
            if stale.name.startswith(".part-") or (
                stale.name.startswith("part-") and _number(stale) >= journal.position
            ):
                stale.unlink()
        self.schema = None
        if journal.position:
            self.schema = self.pq.read_schema(self._part(0))
        elif reader._parquet is not None:
            self.schema = self._with_results(reader._parquet.schema_arrow)

    def _part(self, number: int) -> Path:
        return self.parts / f"part-{number:06d}.parquet"

    def _with_results(self, schema):
        pa = self.pa
        fields = [pa.field(ROW_FIELD, pa.int64()), *schema]
        fields += [pa.field(name, pa.type_for_alias(kind)) for name, kind in RESULT_TYPES.items()]
        return pa.schema(fields)

    def write(self, rows: list[dict], first_index: int) -> int:
        pa = self.pa
        try:
            if self.schema is None:
                inferred = pa.Table.from_pylist(
                    [{k: v for k, v in row.items() if k not in ADDED_FIELDS} for row in rows]
                )
                self.schema = self._with_results(inferred.schema.remove_metadata())
            names = set(self.schema.names)
            for offset, row in enumerate(rows):
                if not names.issuperset(row):
                    extra = ", ".join(repr(name) for name in row if name not in names)
                    raise CrestEdgeError(
                        f"row {first_index + offset} has fields the first rows lacked ({extra}): a Parquet file "
                        "has one schema; write JSONL instead"
                    )
            table = pa.Table.from_pylist(rows, schema=self.schema)
        except pa.ArrowException as exc:
            raise CrestEdgeError(
                f"rows {first_index}-{first_index + len(rows) - 1} do not fit the Parquet schema of the first "
                f"rows ({exc}); write JSONL instead"
            ) from None
        number = self.journal.position
        temporary = self.parts / f".part-{number:06d}.tmp"
        self.pq.write_table(table, temporary)
        _fsync(temporary)
        os.replace(temporary, self._part(number))
        return number + 1

    def finish(self) -> None:
        """Merge the parts into the output (through a temporary file, renamed into place)."""
        merged = self.output.with_name(f".{self.output.name}.merging")
        with self.pq.ParquetWriter(merged, self.schema) as writer:
            for number in range(self.journal.position):
                part = self.pq.ParquetFile(self._part(number))
                for group in range(part.num_row_groups):
                    writer.write_table(part.read_row_group(group))
        _fsync(merged)
        os.replace(merged, self.output)

    def close(self) -> None:
        pass


def parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def discard_parts(output: Path) -> None:
    """Remove a finished Parquet job's parts (nothing for a text output)."""
    shutil.rmtree(parts_dir(output), ignore_errors=True)


def _number(part: Path) -> int:
    return int(part.stem.removeprefix("part-"))


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())

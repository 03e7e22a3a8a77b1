"""Texts to classify as a stream of numbered rows: command-line arguments, or the lines of a plain-text
or JSONL file (or stdin), read as they arrive and never all held at once.

Lines end at "\\n", "\\r\\n" or "\\r" only: U+2028, U+0085, form feeds and the like are part of the text
they sit in, so they cannot split one message into several. Every line of plain text is a row (a
blank line is the empty text), numbered as the file numbers its lines. A file whose first non-blank
line is a JSON object is JSONL: each non-blank line must be an object with a string "text" (any valid
JSON string, raw U+2028 included); its other fields are kept on the row. The batch job (crest_edge.batch)
names the text field itself, insists on JSONL, and keeps an object whose text is missing or not a string
as a row with text None, for it to give a defined result rather than stop a long job.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import CrestEdgeError

_LINE_END = re.compile(r"\r\n|\r|\n")
_READ = 1 << 16  # bytes asked for per read; a pipe returns what it has
MAX_LINE = 64 << 20  # characters: a longer line is refused rather than held (endless input stays bounded)


@dataclasses.dataclass(frozen=True)
class Row:
    line: int  # 1-based: the argument's position, or the line number in the file
    text: str | None  # None only with keep_bad: the object's text field is missing or not a string
    record: dict | None = None  # the JSONL object the text came from


def rows_from_texts(texts: list[str]) -> list[Row]:
    return [Row(i, text) for i, text in enumerate(texts, 1)]


def read_rows(
    source: str, text_field: str = "text", jsonl: bool = False, keep_bad: bool = False
) -> Iterator[list[Row]]:
    """The rows of `source` (a path, or "-" for stdin) in groups, each group as soon as its bytes have
    arrived (so a pipe's lines are classified while it is still writing). Raises CrestEdgeError, naming
    the line or byte, on unreadable, non-UTF-8 or malformed input, and when the source holds no text.
    `jsonl` refuses a file that is not JSONL; `keep_bad` keeps an object without a string `text_field`
    as a row whose text is None."""
    name = "<stdin>" if source == "-" else source
    held, seen = [], False
    parse = functools.partial(_jsonl_row, text_field, keep_bad) if jsonl else None
    for lines in _line_groups(source, name):
        group = []
        try:
            for number, line in lines:
                if parse is None:
                    if not line.strip():  # blank lines before the first text decide nothing yet
                        held.append((number, line))
                        continue
                    parse = functools.partial(_jsonl_row, text_field, keep_bad) if _is_json_object(line) else _plain_row
                    pending, held = [*held, (number, line)], []
                else:
                    pending = [(number, line)]
                group += [row for n, text in pending if (row := parse(name, n, text)) is not None]
        except CrestEdgeError:
            if group:
                yield group  # the rows before a malformed line are not lost
            raise
        if group:
            seen = True
            yield group
    if not seen:
        raise CrestEdgeError(f"{name}: no texts in it (empty, or only blank lines)")


def _plain_row(name: str, number: int, line: str) -> Row:
    return Row(number, line)


def _jsonl_row(text_field: str, keep_bad: bool, name: str, number: int, line: str) -> Row | None:
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        raise CrestEdgeError(f"{name}: line {number} is not JSON, but the file looked like JSONL") from None
    if not isinstance(record, dict):
        raise CrestEdgeError(f"{name}: line {number} is not a JSON object")
    text = record.get(text_field)
    if not isinstance(text, str):
        if not keep_bad:
            raise CrestEdgeError(f"{name}: line {number} has no string {text_field!r} field")
        text = None
    return Row(number, text, record)


def _is_json_object(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _open(source: str, name: str):
    if source == "-":
        return sys.stdin.buffer
    try:
        return open(Path(source), "rb")
    except FileNotFoundError:
        raise CrestEdgeError(f"{source}: no such file") from None
    except OSError as exc:
        raise CrestEdgeError(f"{source}: cannot be read ({exc.strerror})") from None


def _line_groups(source: str, name: str) -> Iterator[list[tuple[int, str]]]:
    """(line number, line) of every complete line, grouped by the read that completed them. On bytes
    that are not UTF-8, the complete lines before them come out first, then the error."""
    handle = _open(source, name)
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    buffer, number, consumed = "", 0, 0
    try:
        while True:
            try:
                chunk = handle.read1(_READ)
            except OSError as exc:
                raise CrestEdgeError(f"{name}: cannot be read ({exc.strerror})") from None
            final, error = not chunk, None
            held = len(decoder.getstate()[0])
            try:
                buffer += decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                valid = exc.object[: exc.start].decode("utf-8")
                buffer += valid[1:] if consumed == 0 and valid.startswith("\ufeff") else valid
                error = CrestEdgeError(
                    f"{name}: not UTF-8 text (invalid byte 0x{exc.object[exc.start]:02x} "
                    f"at offset {consumed - held + exc.start})"
                )
            consumed += len(chunk)
            lines, buffer, number = _complete_lines(buffer, number, final and error is None)
            if lines:
                yield lines
            if error is not None:
                raise error
            if len(buffer) > MAX_LINE:
                raise CrestEdgeError(f"{name}: line {number + 1} is longer than {MAX_LINE:,} characters")
            if final:
                return
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _complete_lines(buffer: str, number: int, final: bool) -> tuple[list[tuple[int, str]], str, int]:
    """The complete lines at the start of `buffer` (all of it when `final`), what is left, the last number."""
    lines, start = [], 0
    for match in _LINE_END.finditer(buffer):
        if not final and match.end() == len(buffer) and match.group() == "\r":
            break  # perhaps the first half of "\r\n": decided by the next read
        number += 1
        lines.append((number, buffer[start : match.start()]))
        start = match.end()
    rest = buffer[start:]
    if final and rest:
        number += 1
        lines.append((number, rest))
        rest = ""
    return lines, rest, number

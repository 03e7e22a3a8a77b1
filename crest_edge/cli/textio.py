"""Reading user text inputs: arguments, plain-text lines or JSONL, from a file or stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import CrestEdgeError


def read_inputs(texts: list[str], input_path: str | None) -> list[str]:
    """Texts from the command line, or from --input (a file, or - for stdin); exactly one source."""
    if texts and input_path:
        raise CrestEdgeError("give texts as arguments or with --input, not both")
    if not input_path:
        if not texts:
            raise CrestEdgeError("no text given: pass TEXT... or --input FILE (- for stdin)")
        return texts
    if input_path == "-":
        raw, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        try:
            raw, name = Path(input_path).read_bytes(), input_path
        except FileNotFoundError:
            raise CrestEdgeError(f"{input_path}: no such file") from None
        except OSError as exc:
            raise CrestEdgeError(f"{input_path}: cannot be read ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CrestEdgeError(
            f"{name}: not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    lines = [line for line in content.splitlines() if line.strip()]
    if not lines:
        raise CrestEdgeError(f"{name}: no texts in it (empty, or only blank lines)")
    return _jsonl_texts(lines, name) if _looks_like_jsonl(lines) else lines


def _looks_like_jsonl(lines: list[str]) -> bool:
    if not lines or not lines[0].lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(lines[0]), dict)
    except ValueError:
        return False


def _jsonl_texts(lines: list[str], name: str) -> list[str]:
    texts = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError:
            raise CrestEdgeError(f"{name}: line {number} is not JSON, but the file looked like JSONL") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise CrestEdgeError(f"{name}: line {number} has no string 'text' field")
        texts.append(row["text"])
    return texts

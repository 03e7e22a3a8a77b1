"""The project's own corpora (JSONL with text, label, lang, script) and reading user corpora."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import CrestEdgeError

DATA_DIR = Path(__file__).parent


def seed_corpus_path() -> Path:
    return DATA_DIR / "seed.jsonl"


def parity_corpus_path() -> Path:
    return DATA_DIR / "parity.jsonl"


def read_jsonl(path) -> list[dict]:
    """Rows of a UTF-8 JSONL file; each must be an object with a string `text`."""
    path = Path(path)
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except FileNotFoundError:
        raise CrestEdgeError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CrestEdgeError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CrestEdgeError(f"{path}:{number}: not JSON ({exc})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise CrestEdgeError(f"{path}:{number}: expected an object with a string 'text'")
        rows.append(row)
    return rows

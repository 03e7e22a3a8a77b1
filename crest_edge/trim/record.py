"""The trim record: what a trimmed checkpoint serves and how its vocabulary was chosen.

`trim` writes it beside the checkpoint as `crest-edge-trim.json`; converters copy it into the
artifact's manifest (`trim`), so every format carries it. The Guard reads it to measure how much of
an input falls outside what was kept (see `coverage`). A damaged record is an error, never a
silently disabled guard.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ArtifactError

TRIM_FILE = "crest-edge-trim.json"
SOURCES = ("script", "corpus", "keep")  # what may choose kept pieces (besides the specials)


def problems(record) -> list[str]:
    """Everything wrong with a decoded trim record."""
    if not isinstance(record, dict):
        return ["not a JSON object"]
    found = []
    for key in ("languages", "scripts", "sources"):
        value = record.get(key)
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            found.append(f"{key} is not a list of strings")
    unknown = [s for s in record.get("sources") or [] if isinstance(s, str) and s not in SOURCES]
    if unknown:
        found.append(f"unknown sources {unknown}")
    ranges = record.get("served_ranges")
    if not isinstance(ranges, list) or not ranges:
        found.append("served_ranges is not a non-empty list")
    else:
        last = -1
        for item in ranges:
            ok = isinstance(item, list) and len(item) == 2 and all(type(x) is int for x in item)
            if not ok or not last < item[0] <= item[1] <= 0x10FFFF:
                found.append(f"served_ranges entry {item!r} is not an ascending [first, last] code point pair")
                break
            last = item[1]
    for key in ("pieces_kept", "pieces_before"):
        if type(record.get(key)) is not int or record[key] < 4:
            found.append(f"{key} is not a piece count")
    return found


def validated(record, origin: str) -> dict:
    found = problems(record)
    if found:
        raise ArtifactError(f"{origin}: not a valid trim record: " + "; ".join(found))
    return record


def read_trim_record(directory) -> dict | None:
    """The checkpoint's trim record, None if it was not trimmed; ArtifactError if the record is damaged."""
    path = Path(directory) / TRIM_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ArtifactError(f"{path}: unreadable trim record ({type(exc).__name__})") from None
    return validated(record, str(path))


def write_trim_record(directory, record: dict) -> Path:
    path = Path(directory) / TRIM_FILE
    path.write_text(json.dumps(validated(record, str(path)), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path

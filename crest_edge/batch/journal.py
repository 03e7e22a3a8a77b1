"""The sidecar that makes a batch job resumable: `OUT.crest-edge-batch.json` beside the output.

It records what the job is (the input's identity, the model, every option that changes a result) and
how far it durably got: after each chunk the output is flushed and fsynced first, then the sidecar is
replaced atomically with the new row count and the output's byte length (text formats) or part count
(Parquet). A rerun trusts only the sidecar: whatever the output holds past the recorded point (a torn
line, a half-written row, a part written but not recorded) is cut off and classified again, so no row
is duplicated or lost, whenever the process was killed.

The input is identified by its size and the SHA-256 of its first and last MiB (not the whole file: a
multi-GB corpus is not read twice to start a job); a rerun whose input or options differ is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from ..errors import CrestEdgeError

SUFFIX = ".crest-edge-batch.json"
KIND = "crest-edge batch job"
_ENDS = 1 << 20


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + SUFFIX)


def input_identity(path: Path) -> dict:
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(_ENDS))
        if size > _ENDS:
            handle.seek(max(_ENDS, size - _ENDS))
            digest.update(handle.read(_ENDS))
    return {"path": str(path.resolve()), "size": size, "sha256_ends": digest.hexdigest()}


@dataclasses.dataclass
class Journal:
    path: Path  # the sidecar
    job: dict  # input identity, model and options: what a resume must match
    rows: int = 0  # input rows whose results are durably in the output
    position: int = 0  # output bytes (JSONL, CSV) or parts (Parquet) those rows fill
    columns: list | None = None  # CSV: the header written
    complete: bool = False

    @classmethod
    def open(cls, output: Path, job: dict) -> Journal:
        """The journal of the job writing `output`: a new one, or the recorded one when `job` matches it.
        Refuses an output that exists without a sidecar (not ours to overwrite) and a changed job."""
        path = sidecar_path(output)
        if not path.exists():
            if output.exists():
                raise CrestEdgeError(
                    f"{output} exists and no {path.name} says a crest-edge batch job wrote it; "
                    "remove it or choose another --output"
                )
            return cls(path, job)
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
            if recorded["kind"] != KIND:
                raise ValueError(recorded["kind"])
            journal = cls(path, recorded["job"], recorded["rows"], recorded["position"], recorded.get("columns"))
            journal.complete = bool(recorded["complete"])
        except (OSError, ValueError, KeyError, TypeError):
            raise CrestEdgeError(f"{path}: not a readable crest-edge batch record; remove it to start over") from None
        changed = [key for key in sorted(set(job) | set(journal.job)) if job.get(key) != journal.job.get(key)]
        if changed:
            raise CrestEdgeError(
                f"{output} was started by a different job ({describe_change(journal.job, job, changed)}); "
                f"rerun it as it was, or remove {output} and {path.name} to start over"
            )
        return journal

    def record(self, rows: int, position: int, complete: bool = False) -> None:
        """Make `rows` and `position` the resume point (the output must already be durable up to it)."""
        self.rows, self.position, self.complete = rows, position, complete
        body = {
            "kind": KIND,
            "job": self.job,
            "rows": rows,
            "position": position,
            "columns": self.columns,
            "complete": complete,
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(body, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def describe_change(before: dict, after: dict, keys: list[str]) -> str:
    if "input" in keys:
        moved = before.get("input", {}).get("path") != after.get("input", {}).get("path")
        return f"its input was {before['input']['path']}" if moved else "its input changed since"
    return ", ".join(f"{key}: {before.get(key)!r} then, {after.get(key)!r} now" for key in keys)

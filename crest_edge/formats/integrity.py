"""Artifact integrity: a sha256 of every file an artifact ships and of its manifest's own fields,
recorded by the converter and checked when the artifact loads, so a damaged, truncated or replaced
file fails with its name instead of scoring wrong.

A `.gguf` carries its manifest inside, so its digest covers every byte of the file except that one
metadata entry and the alignment padding after the header (which a manifest update resizes). The
manifest digest covers every field but `parity` (which `crest-edge parity --write-manifest` rewrites)
and the integrity record itself.

`verify="full"` (the default) reads every byte at load. `verify="cached"` skips re-reading a file
whose device, inode, size, mtime and ctime equal those of a verification recorded under the user
cache directory: any write to the file changes its ctime, but silent storage corruption does not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from ..errors import ArtifactError

ALGORITHM = "sha256"
VERIFY_MODES = ("full", "cached")
GGUF_CONTENT = "<gguf content>"  # the name a .gguf's one digest is recorded under
_CHUNK = 4 << 20


def digest_ranges(path: Path, ranges) -> str:
    """sha256 of the byte ranges [(start, end), ...] of `path`, in order."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for start, end in ranges:
            handle.seek(start)
            left = end - start
            while left > 0:
                block = handle.read(min(_CHUNK, left))
                if not block:
                    raise ArtifactError(f"{path}: ends before byte {end}; truncated")
                digest.update(block)
                left -= len(block)
    return digest.hexdigest()


UNSEALED_FIELDS = ("parity", "selection", "integrity")


def manifest_digest(manifest) -> str:
    """sha256 of a manifest's fields but the measurements recorded after sealing (`parity`, `selection`)
    and `integrity` itself, canonically serialized. An optional field left unset (None) is left out, so
    a field added in a later release does not change the digest of an artifact sealed before it."""
    fields = {k: v for k, v in dataclasses.asdict(manifest).items() if k not in UNSEALED_FIELDS and v is not None}
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(manifest, file_digests: dict[str, str]) -> None:
    """Record `file_digests` (name -> sha256) and the manifest's own digest in `manifest`."""
    manifest.integrity = {"algorithm": ALGORITHM, "files": dict(file_digests)}
    manifest.integrity["manifest"] = manifest_digest(manifest)


def verify(manifest, origin: str, files: dict[str, tuple[Path, list]], mode: str = "full") -> None:
    """Check `manifest`'s record against its own fields and against `files` (recorded name -> (path,
    byte ranges)); ArtifactError names the first thing that differs."""
    if mode not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)}, got {mode!r}")
    record = manifest.integrity
    if (
        not isinstance(record, dict)
        or record.get("algorithm") != ALGORITHM
        or not isinstance(record.get("files"), dict)
    ):
        raise ArtifactError(
            f"{origin}: no integrity record in its manifest (made by crest-edge before 0.2?); convert it again"
        )
    if record.get("manifest") != manifest_digest(manifest):
        raise ArtifactError(f"{origin}: its manifest was edited or damaged (its digest does not match)")
    if set(record["files"]) != set(files):
        raise ArtifactError(
            f"{origin}: the integrity record lists {sorted(record['files'])}, the artifact has {sorted(files)}"
        )
    for name, (path, ranges) in files.items():
        expected = record["files"][name]
        if mode == "cached" and _cached(path) == expected:
            continue
        if digest_ranges(path, ranges) != expected:
            raise ArtifactError(
                f"{path}: its content differs from what the artifact was made with; damaged or replaced"
            )
        if mode == "cached":
            _remember(path, expected)


def _signature(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _cache_file(path: Path) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    key = hashlib.sha256(str(Path(path).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return Path(base) / "crest-edge" / "verified" / f"{key}.json"


def _cached(path: Path) -> str | None:
    try:
        entry = json.loads(_cache_file(path).read_text(encoding="utf-8"))
        return entry["sha256"] if entry["signature"] == _signature(path) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(path: Path, digest: str) -> None:
    target = _cache_file(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps({"signature": _signature(path), "sha256": digest}), encoding="utf-8")
        os.replace(temp, target)
    except OSError:
        pass  # an unwritable cache only means the next load verifies in full again

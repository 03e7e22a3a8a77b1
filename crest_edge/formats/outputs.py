"""Where crest-edge may write, and what `--force` may replace: only what crest-edge itself made.

`convert --force` replaces an existing crest-edge artifact (a directory with a crest-edge manifest, or
a .gguf carrying one) and nothing else: not a directory of other files, not the source checkpoint or
anything inside it, nothing that contains it. `synth --force` replaces only a checkpoint synth wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConversionError
from .manifest import MANIFEST_NAME

SYNTH_MARK = "crest_edge_synth"  # the config.json key synth writes


def _is_artifact(path: Path) -> bool:
    if path.is_dir():
        try:
            return isinstance(json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8")).get("format"), str)
        except (OSError, ValueError, AttributeError, RecursionError):
            return False
    from ..errors import CrestEdgeError
    from .gguf import MANIFEST_KEY
    from .gguf_file import read_layout

    try:
        return MANIFEST_KEY in read_layout(path).spans
    except CrestEdgeError:
        return False


def is_synth_checkpoint(path: Path) -> bool:
    try:
        return SYNTH_MARK in json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, RecursionError):
        return False


def check_output(out, force: bool, what: str, replaceable, sources=()) -> Path:
    """`out` resolved, or ConversionError if writing there could destroy what crest-edge did not make:
    it overlaps a source (is one, lies inside one, or contains one), or it exists and is not
    `replaceable(out)` (or `force` was not given)."""
    out = Path(out).expanduser()
    target = out.resolve()
    for source in sources:
        source = Path(source).resolve()
        if target == source or source in target.parents or target in source.parents:
            raise ConversionError(f"--out {out} overlaps the source {source}; write {what} somewhere else")
    if out.exists() or out.is_symlink():
        if not force:
            raise ConversionError(f"{out} exists; pass --force to replace it")
        if out.is_symlink() or not replaceable(out):
            raise ConversionError(f"{out} exists and is not {what} crest-edge made; refusing to replace it")
    return out


def check_artifact_output(out, force: bool, source) -> Path:
    return check_output(out, force, "an artifact", _is_artifact, (source,))


def check_synth_output(out, force: bool) -> Path:
    out = Path(out)
    if out.is_dir() and not any(out.iterdir()):
        return out
    return check_output(out, force, "a synthesized checkpoint", is_synth_checkpoint)

"""Converters: a Hugging Face XLM-R classifier checkpoint -> CT2, GGUF or ONNX artifact.

Each target module exposes QUANTS (accepted --quant values), REFUSED (quant -> reason) and
`write(checkpoint, tensors, out, quant) -> Path`, writing into a fresh location.
"""
from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from crest_edge.checkpoint import open_checkpoint
from crest_edge.errors import ConversionError

TARGETS = {"ct2": "crest_edge.convert.ct2", "gguf": "crest_edge.convert.gguf", "onnx": "crest_edge.convert.onnx"}


def target_module(to: str):
    if to not in TARGETS:
        raise ConversionError(f"unknown target {to!r}; choose from {', '.join(TARGETS)}")
    return importlib.import_module(TARGETS[to])


def convert(src, out, to: str, quant: str, force: bool = False) -> Path:
    """Convert checkpoint `src` to format `to` at precision `quant`; return the artifact path.

    Refuses to overwrite `out` without `force`. Every validation problem is reported at once.
    """
    module = target_module(to)
    quant = quant.lower()
    if quant in getattr(module, "REFUSED", {}):
        raise ConversionError(module.REFUSED[quant])
    if quant not in module.QUANTS:
        raise ConversionError(f"--quant {quant!r} is not available for {to}; choose from {', '.join(module.QUANTS)}")
    out = Path(out)
    if out.exists() and not force:
        raise ConversionError(f"{out} exists; pass --force to overwrite")
    checkpoint = open_checkpoint(src)
    tensors = checkpoint.validated_tensors()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target, then swap in, so a failed conversion never leaves half an artifact.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        built = module.write(checkpoint, tensors, staging / out.name, quant)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        built.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out

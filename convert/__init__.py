"""Converters: a Hugging Face XLM-R classifier checkpoint -> CT2, GGUF or ONNX artifact.

Each target module exposes `write(checkpoint, tensors, out, quant) -> Path`, writing into a fresh
location; which quantizations each accepts is its format's fact (crest_edge.registry).
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from crest_edge import registry
from crest_edge.errors import ConversionError
from crest_edge.formats.checkpoint import open_checkpoint


def target_module(to: str):
    return importlib.import_module(registry.format_spec(to).converter)


def convert(src, out, to: str, quant: str, force: bool = False) -> Path:
    """Convert checkpoint `src` to format `to` at precision `quant`; return the artifact path.

    Refuses to overwrite `out` without `force`. Every validation problem is reported at once.
    """
    quant = quant.lower()
    problem = registry.quant_problem(to, quant)
    if problem:
        raise ConversionError(problem)
    module = target_module(to)
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

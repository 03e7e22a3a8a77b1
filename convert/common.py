"""What every converter shares: the manifest it starts from and the tokenizer it copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from crest_edge.errors import ArtifactError, ConversionError
from crest_edge.formats import xlmr
from crest_edge.formats.checkpoint import Checkpoint
from crest_edge.formats.manifest import Manifest, engine_versions
from crest_edge.tokenizer import TOKENIZER_FILES
from crest_edge.trim.record import read_trim_record


def base_manifest(checkpoint: Checkpoint, fmt: str, quantization: str, *engine_packages: str) -> Manifest:
    return Manifest(
        format=fmt,
        quantization=quantization,
        labels=checkpoint.labels,
        max_length=checkpoint.max_length,
        source_sha256=checkpoint.sha256(),
        versions=engine_versions(*engine_packages),
        model={
            "architecture": xlmr.ARCHITECTURE,
            "layers": checkpoint.num_layers,
            "hidden_size": checkpoint.hidden_size,
            "heads": checkpoint.num_heads,
            "vocab_size": int(checkpoint.config["vocab_size"]),
            "pad_token_id": checkpoint.pad_id,
            "source": str(checkpoint.path.resolve()),
        },
        trim=read_trim_record(checkpoint.path),
    )


def outside_links(checkpoint: Checkpoint) -> list[str]:
    """The checkpoint files that are symlinks to somewhere outside its directory, as "name -> target"
    (a Hugging Face cache snapshot is all such links; a stray one may be a file nobody meant to ship)."""
    root = checkpoint.path.resolve()
    found = []
    for path in sorted(checkpoint.path.iterdir()):
        if path.is_symlink() and root not in path.resolve().parents:
            found.append(f"{path.name} -> {path.resolve()}")
    return found


def copy_tokenizer(checkpoint: Checkpoint, out: Path) -> str:
    """Copy the checkpoint's tokenizer file into `out`; return its file name."""
    for name in TOKENIZER_FILES:
        if (checkpoint.path / name).is_file():
            shutil.copyfile(checkpoint.path / name, Path(out) / name)
            return name
    raise ArtifactError(f"{checkpoint.path}: no tokenizer ({' or '.join(TOKENIZER_FILES)})")


def int8_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An embedding table as int8 rows and one float32 scale per row (row ~= int8 row * scale)."""
    table = np.asarray(table, dtype=np.float32)
    scale = np.abs(table).max(axis=1) / 127.0
    scale[scale == 0] = 1.0  # an all-zero row (<pad>) stays zero
    return np.round(table / scale[:, None]).clip(-127, 127).astype(np.int8), scale.astype(np.float32)


def pick_recipe(recipes: dict, format_name: str, quant: str, variant: str | None) -> tuple[str, dict]:
    """A format's RECIPES entry for `--quant quant` in the named variant (None: the default, `quant`'s own
    entry; e.g. int8's "weight-only" is "int8:weight-only") -> (key, recipe); an unknown variant is an error."""
    key = quant if variant is None else f"{quant}:{variant}"
    if variant is not None and key not in recipes:
        variants = sorted(k.split(":", 1)[1] for k in recipes if k.startswith(f"{quant}:"))
        raise ConversionError(
            f"{format_name} {quant} has no recipe {variant!r}; variants: {', '.join(variants) or 'none'}"
        )
    return key, recipes.get(key, {})

"""Reading and validating a local Hugging Face XLMRobertaForSequenceClassification checkpoint.

Only numpy is needed: safetensors files are parsed here directly, so converters and
validation work without torch. `pytorch_model.bin` needs torch (the `reference` extra).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from ..errors import ArtifactError, ConversionError
from ..extras import require
from . import xlmr
from .manifest import sha256_file

ARCHITECTURE = xlmr.ARCHITECTURE
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}


def hub_id_hint(path: str) -> str:
    """The message for a path that does not exist but looks like a hub id."""
    if _HUB_ID.match(path):
        return (
            f"{path}: no such local directory; it looks like a Hugging Face hub id, and downloading "
            f"needs a machine with internet: run `hf download {path} --local-dir DIR` there, "
            "copy DIR here and pass DIR"
        )
    return f"{path}: no such file or directory"


@dataclasses.dataclass
class Checkpoint:
    path: Path
    config: dict
    weights: Path

    @property
    def labels(self) -> list[str]:
        id2label = self.config.get("id2label") or {"0": "safe", "1": "unsafe"}
        return [str(id2label.get(str(i), id2label.get(i, f"LABEL_{i}"))) for i in range(len(id2label))]

    @property
    def num_layers(self) -> int:
        return int(self.config["num_hidden_layers"])

    @property
    def hidden_size(self) -> int:
        return int(self.config["hidden_size"])

    @property
    def num_heads(self) -> int:
        return int(self.config["num_attention_heads"])

    @property
    def pad_id(self) -> int:
        return int(self.config.get("pad_token_id", 1))

    @property
    def max_length(self) -> int:
        """Longest id sequence the model accepts, specials included (512 for XLM-R)."""
        return int(self.config["max_position_embeddings"]) - self.pad_id - 1

    @property
    def layer_norm_eps(self) -> float:
        return float(self.config.get("layer_norm_eps", 1e-5))

    def sha256(self) -> str:
        return sha256_file(self.weights)

    def tensors(self) -> dict[str, np.ndarray]:
        """All weights as float32 numpy arrays, keyed by their Hugging Face names."""
        if self.weights.suffix == ".safetensors":
            tensors = read_safetensors(self.weights)
        else:
            torch = require("torch", "reading pytorch_model.bin")
            try:
                state = torch.load(self.weights, map_location="cpu", weights_only=True)
            except Exception as exc:  # torch raises many types for a damaged pickle/zip
                raise ArtifactError(f"{self.weights}: cannot be read ({exc})") from None
            tensors = {k: v.float().numpy() for k, v in state.items()}
        return {k: v.astype(np.float32, copy=False) for k, v in tensors.items()}

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        return xlmr.expected_shapes(self.config, len(self.labels))

    def validated_tensors(self) -> dict[str, np.ndarray]:
        """The weights, after checking every expected tensor; all problems are reported at once."""
        tensors = self.tensors()
        problems = []
        for name, shape in self.expected_shapes().items():
            if name not in tensors:
                problems.append(f"missing tensor {name}")
            elif tuple(tensors[name].shape) != shape:
                problems.append(f"{name} has shape {tuple(tensors[name].shape)}, expected {shape}")
            elif not np.isfinite(tensors[name]).all():
                problems.append(f"{name} contains NaN or infinite values")
        if problems:
            raise ConversionError([f"{self.path}: {p}" for p in problems])
        return tensors


def _config_problems(config: dict) -> list[str]:
    problems = []
    if config.get("model_type") != xlmr.MODEL_TYPE:
        problems.append(f"model_type is {config.get('model_type')!r}, expected {xlmr.MODEL_TYPE!r}")
    archs = config.get("architectures") or []
    if ARCHITECTURE not in archs:
        problems.append(f"architectures is {archs}, expected {ARCHITECTURE}")
    if config.get("position_embedding_type", "absolute") != "absolute":
        problems.append("only absolute position embeddings are supported")
    if config.get("hidden_act", "gelu") != "gelu":
        problems.append(f"hidden_act {config.get('hidden_act')!r} is not supported (gelu only)")
    for key in (
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
        "max_position_embeddings",
    ):
        if not isinstance(config.get(key), int):
            problems.append(f"config has no integer {key}")
    return problems


def open_checkpoint(path) -> Checkpoint:
    """Validate a checkpoint directory's config and find its weights; raise ArtifactError if not usable."""
    directory = Path(path)
    if not directory.exists():
        raise ArtifactError(hub_id_hint(str(path)))
    if not directory.is_dir():
        raise ArtifactError(f"{directory}: not a checkpoint directory")
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise ArtifactError(f"{directory}: no config.json; not a Hugging Face checkpoint")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{config_path}: corrupt ({exc})") from None
    problems = _config_problems(config)
    if problems:
        raise ArtifactError(f"{config_path}: not an XLM-R sequence classifier: " + "; ".join(problems))
    weights = next((directory / n for n in WEIGHT_FILES if (directory / n).is_file()), None)
    if weights is None:
        raise ArtifactError(f"{directory}: no model.safetensors or pytorch_model.bin")
    return Checkpoint(directory, config, weights)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Parse a .safetensors file into numpy arrays (F32/F16/BF16/F64/I64)."""
    try:
        with open(path, "rb") as handle:
            header_len = int.from_bytes(handle.read(8), "little")
            size = path.stat().st_size
            if not 0 < header_len < size:
                raise ValueError("bad header length")
            header = json.loads(handle.read(header_len))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
        tensors = {}
        for name, spec in header.items():
            if name == "__metadata__":
                continue
            start, end = spec["data_offsets"]
            if end > data.size:
                raise ValueError(f"tensor {name} runs past the end of the file")
            raw = data[start:end]
            if spec["dtype"] == "BF16":
                array = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
            elif spec["dtype"] in _SAFETENSORS_DTYPES:
                array = raw.view(_SAFETENSORS_DTYPES[spec["dtype"]])
            else:
                raise ValueError(f"tensor {name} has unsupported dtype {spec['dtype']}")
            tensors[name] = array.reshape(spec["shape"])
        return tensors
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ArtifactError(f"{path}: corrupt safetensors file ({exc})") from None


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], dtype=np.float32) -> None:
    """Write float tensors as a .safetensors file (F32 or F16), in sorted key order."""
    tag = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[np.dtype(dtype)]
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype=dtype).tobytes()
        header[name] = {"dtype": tag, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as handle:
        handle.write(len(raw).to_bytes(8, "little"))
        handle.write(raw)
        for blob in blobs:
            handle.write(blob)

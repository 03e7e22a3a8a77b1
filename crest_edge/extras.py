"""Lazy imports of optional engines, with the exact install line when one is missing."""
import importlib
import importlib.util

from .errors import MissingExtraError

# module name -> extra that provides it
_EXTRA_OF = {
    "ctranslate2": "ct2",
    "llama_cpp": "gguf",
    "gguf": "gguf",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "onnx_ir": "onnx",
    "torch": "reference",
    "transformers": "reference",
    "safetensors": "reference",
    "tokenizers": "reference",
    "psutil": "bench",
    "tqdm": "bench",
    "matplotlib": "bench",
    "onnxscript": "bench",
}


def require(module: str, purpose: str = ""):
    """Import `module` or raise MissingExtraError naming the pip line that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRA_OF.get(module.split(".")[0], "all")
        what = f" for {purpose}" if purpose else ""
        raise MissingExtraError(
            f"{module} is not installed{what}: pip install 'crest-edge[{extra}]'"
        ) from exc


def is_installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None

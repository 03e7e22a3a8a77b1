"""The facts everything else derives from: artifact formats, engines, their pip extras, quantizations
and devices. The CLI's choices, `doctor`, `quickstart`, the bench defaults, the extras map and the
tests' target lists are all read from here."""

from __future__ import annotations

import dataclasses

from .formats import ct2, gguf, onnx, openvino, transformers_js


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    name: str
    adapter: str  # the runtimes module that implements runtimes/base.py's protocol
    extra: str  # pip install 'crest-edge[extra]'
    modules: tuple[str, ...]  # import names it needs
    packages: tuple[str, ...]  # distribution names, for versions


@dataclasses.dataclass(frozen=True)
class FormatSpec:
    name: str
    engine: str
    quants: dict  # --quant -> precision class
    refused: dict  # --quant -> why not, and what to use instead
    converter: str  # the convert module that writes it
    single_file: bool  # a .gguf file rather than a directory
    description: str
    auto: dict  # precision class -> ((quant, writer options), ...) that `--quant auto-...` tries, cheapest first


ENGINES = {
    "torch": EngineSpec(
        "torch", "crest_edge.runtimes.torch_ref", "reference", ("torch", "transformers"), ("torch", "transformers")
    ),
    "ct2": EngineSpec("ct2", "crest_edge.runtimes.ct2", "ct2", ("ctranslate2",), ct2.PACKAGES),
    "llamacpp": EngineSpec("llamacpp", "crest_edge.runtimes.llamacpp", "gguf", ("llama_cpp", "gguf"), gguf.PACKAGES),
    "onnx": EngineSpec("onnx", "crest_edge.runtimes.onnx", "onnx", ("onnxruntime", "onnx"), onnx.PACKAGES),
    "openvino": EngineSpec("openvino", "crest_edge.runtimes.openvino", "openvino", ("openvino",), openvino.PACKAGES),
}

FORMATS = {
    "ct2": FormatSpec(
        "ct2",
        "ct2",
        ct2.QUANTS,
        ct2.REFUSED,
        "crest_edge.convert.ct2",
        False,
        "CTranslate2 directory: model.bin, head.npz (fp32 head), tokenizer, crest-edge.json",
        ct2.AUTO,
    ),
    "gguf": FormatSpec(
        "gguf",
        "llamacpp",
        gguf.QUANTS,
        gguf.REFUSED,
        "crest_edge.convert.gguf",
        True,
        "one .gguf file: weights, head (always F32), tokenizer and manifest inside",
        gguf.AUTO,
    ),
    "onnx": FormatSpec(
        "onnx",
        "onnx",
        onnx.QUANTS,
        onnx.REFUSED,
        "crest_edge.convert.onnx",
        False,
        "ONNX directory: model.onnx (head in the graph), tokenizer, crest-edge.json",
        onnx.AUTO,
    ),
    "openvino": FormatSpec(
        "openvino",
        "openvino",
        openvino.QUANTS,
        openvino.REFUSED,
        "crest_edge.convert.openvino",
        False,
        "OpenVINO directory: model.xml/.bin (encoder and head), embeddings.npy, tokenizer, crest-edge.json",
        openvino.AUTO,
    ),
    transformers_js.NAME: FormatSpec(
        transformers_js.NAME,
        "onnx",
        transformers_js.QUANTS,
        transformers_js.REFUSED,
        "crest_edge.convert.transformers_js",
        False,
        "transformers.js folder: config.json, tokenizer.json, onnx/model_<dtype>.onnx, crest-edge.json",
        transformers_js.AUTO,
    ),
}
REFERENCE_FORMAT = "hf"  # a Hugging Face checkpoint directory: the fp32 reference, run by transformers
ENGINE_FOR_FORMAT = {REFERENCE_FORMAT: "torch", **{name: spec.engine for name, spec in FORMATS.items()}}

AUTO_PREFIX = "auto-"  # --quant auto-8bit: see crest_edge.autoquant

DEVICES = ("auto", "cpu", "cuda", "metal", "gpu", "npu")  # gpu, npu: OpenVINO's Intel GPUs and NPUs
# Auto preference: a GPU first, then Apple's accelerators, then Intel's GPU and NPU, then the CPU.
DEVICE_ORDER = ("cuda", "metal", "coreml", "gpu", "npu", "cpu")
# ONNX Runtime reaches Apple's GPU/ANE through CoreML, which a user asks for as "metal".
DEVICE_ALIASES = {"metal": ("metal", "coreml")}

# What `crest-edge bench` runs by default on each backend, and what `quickstart` converts the demo to.
BENCH_DEFAULTS = {
    "cpu": ("ct2:int8", "gguf:q8_0", "gguf:q4_k_m", "onnx:int8", "onnx:int4"),
    "cuda": ("ct2:float16", "ct2:int8_float16", "gguf:q8_0", "gguf:q4_k_m", "onnx:fp16"),
    "metal": ("gguf:f16", "gguf:q8_0", "gguf:q4_k_m", "onnx:fp16"),
}
QUICKSTART_TARGETS = (
    ("ct2", "int8"),
    ("ct2", "float32"),
    ("gguf", "q8_0"),
    ("gguf", "q4_k_m"),
    ("onnx", "int8"),
    ("onnx", "int4"),
)

# What `crest-edge serve` cannot run without; uvicorn also uses httptools and uvloop, faster, when present.
SERVE_MODULES = ("starlette", "uvicorn", "prometheus_client")

# What `crest-edge classify --output` reads and writes, by file extension (crest_edge.batch).
TABLE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}

# import name -> the extra that installs it (engines first, then the tools)
EXTRA_OF_MODULE = {
    **{module: spec.extra for spec in ENGINES.values() for module in spec.modules},
    "onnx_ir": "onnx",
    "nncf": "openvino",
    "onnxruntime_extensions": "mobile",  # the tokenizer op of `convert --to onnx --with-tokenizer`
    "safetensors": "reference",
    "tokenizers": "reference",
    "psutil": "bench",
    "matplotlib": "bench",
    "onnxscript": "bench",
    "regex": "trim",
    "pyarrow": "batch",  # Parquet in the local batch job
    "ray": "ray",
    **{module: "serve" for module in (*SERVE_MODULES, "httptools", "uvloop")},
}


def engine_of_format(fmt: str) -> str:
    return ENGINE_FOR_FORMAT[fmt]


def format_spec(fmt: str) -> FormatSpec:
    from .errors import ConversionError

    if fmt not in FORMATS:
        raise ConversionError(f"unknown target {fmt!r}; choose from {', '.join(FORMATS)}")
    return FORMATS[fmt]


def quant_problem(fmt: str, quant: str) -> str | None:
    """Why `fmt` cannot be written at `quant` (None if it can)."""
    spec = format_spec(fmt)
    if quant in spec.refused:
        return spec.refused[quant]
    if quant not in spec.quants:
        return f"--quant {quant!r} is not available for {fmt}; choose from {', '.join(spec.quants)}"
    return None


def auto_quant(klass: str) -> str:
    """The --quant that asks for parity-gated selection within a class: 8-bit -> auto-8bit."""
    return AUTO_PREFIX + klass.replace("-bit", "bit")


def quant_help() -> str:
    """`ct2: int8 ... auto-8bit | gguf: ... | onnx: ...`, for --help."""
    return " | ".join(
        f"{name}: {' '.join([*spec.quants, *map(auto_quant, spec.auto)])}" for name, spec in FORMATS.items()
    )

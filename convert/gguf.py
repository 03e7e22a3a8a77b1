"""GGUF converter: one self-describing .gguf file that llama.cpp runs as its `bert` architecture.

f32/f16/bf16 are written directly with the `gguf` package. The quantized types are made by
llama.cpp's own quantizer from an f32 file written first; the quantizer copies every metadata
key, so the manifest (with the final quantization) and the tokenizer survive it. The classifier
head (`cls`, `cls.output`), the position and token-type tables stay F32 in every file.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import numpy as np

from crest_edge.errors import ConversionError
from crest_edge.extras import require
from crest_edge.formats import gguf as fmt
from crest_edge.formats import xlmr
from crest_edge.formats.gguf_file import seal_gguf
from crest_edge.llama_glue import llama_cpp, route_logs
from crest_edge.tokenizer import BOS_ID, EOS_ID, MASK_TOKEN, PAD_ID, SPECIAL_TOKENS, SPM_FILE, UNK_ID
from crest_edge.tokenizer.proto import SentencePieceModel

from .common import base_manifest

# Tensors kept F32 whatever the quantization (regexes, as llama.cpp's tensor overrides take them).
KEEP_F32 = tuple("^" + p.replace(".", r"\.") for p in fmt.KEEP_F32_PREFIXES)


def write(
    checkpoint, tensors, out: Path, quant: str, tensor_types: dict[str, str] | None = None, importance=None
) -> Path:
    """Write `out` at `quant`; `tensor_types` ({tensor group: GGML type}) replaces the quant's recipe
    (formats.gguf.TYPE_RECIPES), for measuring others; `importance` as in `quantize`."""
    out = Path(out)
    types = fmt.TYPE_RECIPES.get(quant, {}) if tensor_types is None else tensor_types
    for group, type_name in types.items():
        direct = quant not in fmt.WRITTEN_DIRECTLY or type_name.lower() in fmt.WRITTEN_DIRECTLY
        if group not in fmt.TENSOR_GROUPS or not direct:
            raise ConversionError(f"GGUF type recipe {group}={type_name} for {quant}: no such tensor group or type")
    recipe = {"tensor_types": dict(types)} if types or quant not in fmt.WRITTEN_DIRECTLY else None
    if quant in fmt.WRITTEN_DIRECTLY:
        _write_gguf(checkpoint, tensors, out, quant, quant, recipe)
    else:
        plain = out.with_name(out.name + ".f32")
        try:
            _write_gguf(checkpoint, tensors, plain, "f32", quant, recipe)
            quantize(plain, out, quant, types, importance)
        finally:
            plain.unlink(missing_ok=True)
    seal_gguf(out)
    return out


def _direct_dtype(target: str, dtype: str, recipe: dict | None) -> str:
    """The dtype (f32/f16/bf16) tensor `target` is written in: the file's, or its recipe group's."""
    for group, type_name in ((recipe or {}).get("tensor_types") or {}).items():
        if re.search(fmt.TENSOR_GROUPS[group], target) and type_name.lower() in fmt.WRITTEN_DIRECTLY:
            return type_name.lower()
    return dtype


def _write_gguf(checkpoint, tensors, out: Path, dtype: str, quant: str, recipe: dict | None) -> None:
    """Write `out` with weights in `dtype` (f32/f16/bf16); the manifest says `quant` and `recipe`."""
    gguf = require("gguf", "writing GGUF files")
    config = checkpoint.config
    sp_path = checkpoint.path / SPM_FILE
    if not sp_path.is_file():
        raise ConversionError(f"{checkpoint.path}: no {SPM_FILE} (a GGUF carries the sentencepiece model inside)")
    sp_bytes = sp_path.read_bytes()
    manifest = base_manifest(checkpoint, fmt.NAME, quant, *fmt.PACKAGES)
    manifest.model["head_dtype"] = "f32"
    manifest.model["gelu"] = fmt.GELU
    manifest.quantization_recipe = recipe

    writer = gguf.GGUFWriter(str(out), fmt.ARCH)
    writer.add_name(f"crest-edge {checkpoint.path.name}")
    writer.add_file_type(gguf.LlamaFileType[fmt.FILE_TYPES[dtype]])
    writer.add_context_length(checkpoint.max_length)
    writer.add_embedding_length(checkpoint.hidden_size)
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(checkpoint.num_layers)
    writer.add_head_count(checkpoint.num_heads)
    writer.add_layer_norm_eps(checkpoint.layer_norm_eps)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.RANK)
    writer.add_classifier_output_labels(checkpoint.labels)
    _add_vocab(
        gguf, writer, sp_bytes, int(config["vocab_size"]), int(config.get("type_vocab_size", 1)), checkpoint.path
    )
    writer.add_string(fmt.MANIFEST_KEY, manifest.to_json())
    writer.add_array(fmt.SENTENCEPIECE_KEY, sp_bytes)  # bytes -> a uint8 array

    offset = checkpoint.pad_id + 1  # HF position row i+2 is llama.cpp position i
    for name in checkpoint.expected_shapes():  # ignores extras such as a pooler
        array = tensors[name]
        if name == f"{xlmr.POSITION_EMBEDDINGS}.weight":
            array = array[offset:]
        target = fmt.tensor_name(name)
        kind = _direct_dtype(target, dtype, recipe) if dtype != "f32" else dtype
        if array.ndim == 1 or kind == "f32" or target.startswith(fmt.KEEP_F32_PREFIXES):
            writer.add_tensor(target, np.ascontiguousarray(array, dtype=np.float32))
        elif kind == "f16":
            writer.add_tensor(target, np.ascontiguousarray(array, dtype=np.float16))
        else:
            raw = gguf.quants.quantize(np.ascontiguousarray(array), gguf.GGMLQuantizationType.BF16)
            writer.add_tensor(target, raw, raw_dtype=gguf.GGMLQuantizationType.BF16)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _add_vocab(gguf, writer, sp_bytes: bytes, vocab_size: int, type_vocab_size: int, origin) -> None:
    """XLM-R's tokenizer as llama.cpp's UGM ("t5") vocabulary, in the fairseq id layout."""
    kind = gguf.TokenType
    try:
        model = SentencePieceModel(sp_bytes)
    except (ValueError, IndexError) as exc:
        raise ConversionError(f"{origin}: {SPM_FILE} is not a usable sentencepiece model ({exc})") from None
    n = model.piece_count
    if [model.type_of(i) for i in range(3)] != [kind.UNKNOWN, kind.CONTROL, kind.CONTROL]:
        raise ConversionError(f"{origin}: sentencepiece ids 0/1/2 are not <unk>/<s>/</s> as XLM-R's are")
    if n + 2 > vocab_size:
        raise ConversionError(f"{origin}: {n} sentencepiece pieces do not fit vocab_size {vocab_size}")

    tokens = list(SPECIAL_TOKENS)
    scores = [0.0, 0.0, 0.0, 0.0]
    types = [kind.CONTROL, kind.CONTROL, kind.CONTROL, kind.UNKNOWN]
    # fairseq id = sentencepiece id + 1; sentencepiece's piece types are gguf's token types (the
    # same numbers); any type but these three is written NORMAL, as sentencepiece's Is*() checks had it
    kept = (kind.CONTROL, kind.UNUSED, kind.BYTE)
    tokens += model.pieces[3:]
    scores += model.scores[3:]
    types += [t if (t := model.type_of(i)) in kept else kind.NORMAL for i in range(3, n)]
    for i in range(len(tokens), vocab_size - 1):
        tokens.append(f"[PAD{i}]")
        scores.append(-10000.0)
        types.append(kind.UNUSED)
    mask_id = len(tokens)
    tokens.append(MASK_TOKEN)
    scores.append(0.0)
    types.append(kind.CONTROL)

    writer.add_tokenizer_model("t5")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_token_type_count(type_vocab_size)
    writer.add_add_space_prefix(model.add_dummy_prefix)
    writer.add_remove_extra_whitespaces(model.remove_extra_whitespaces)
    if model.charsmap:
        writer.add_precompiled_charsmap(model.charsmap)
    writer.add_bos_token_id(BOS_ID)
    writer.add_pad_token_id(PAD_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_sep_token_id(EOS_ID)
    writer.add_unk_token_id(UNK_ID)
    writer.add_mask_token_id(mask_id)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)


def quantize(src: Path, out: Path, quant: str, tensor_types: dict[str, str], importance=None) -> None:
    """Quantize `src` into `out` at `quant` with llama.cpp, keeping the KEEP_F32 tensors in F32 and
    writing each group of `tensor_types` ({formats.gguf.TENSOR_GROUPS key: GGML type}) in its type.
    `importance` ({GGUF tensor name: mean x**2 per input channel}) is llama.cpp's importance matrix."""
    lib = llama_cpp("quantizing GGUF files")
    gguf = require("gguf", "quantizing GGUF files")
    route_logs(lib)
    params = lib.llama_model_quantize_default_params()
    params.ftype = gguf.LlamaFileType[fmt.FILE_TYPES[quant]]
    params.nthread = os.cpu_count() or 1
    rules = [(pattern, lib.GGML_TYPE_F32) for pattern in KEEP_F32]
    for group, type_name in tensor_types.items():
        if not hasattr(lib, f"GGML_TYPE_{type_name}"):
            raise ConversionError(f"GGUF type recipe {group}={type_name}: llama.cpp has no such type")
        rules.append((fmt.TENSOR_GROUPS[group], getattr(lib, f"GGML_TYPE_{type_name}")))
    # A NULL pattern ends llama.cpp's override list; the patterns match disjoint tensors.
    overrides = (lib.llama_model_tensor_override * (len(rules) + 1))()
    for slot, (pattern, ggml_type) in zip(overrides, rules):
        slot.pattern, slot.type = pattern.encode(), ggml_type
    params.tt_overrides = ctypes.cast(overrides, ctypes.POINTER(lib.llama_model_tensor_override))
    if importance:
        # llama.cpp reads {name, data, size} entries up to one whose name is NULL; the arrays must live
        # until llama_model_quantize returns.
        arrays = {name: np.ascontiguousarray(values, dtype=np.float32) for name, values in importance.items()}
        entries = (lib.llama_model_imatrix_data * (len(arrays) + 1))()
        for slot, (name, values) in zip(entries, arrays.items()):
            slot.name = name.encode()
            slot.data = values.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            slot.size = values.size
        params.imatrix = ctypes.cast(entries, ctypes.POINTER(lib.llama_model_imatrix_data))
    status = lib.llama_model_quantize(str(src).encode(), str(out).encode(), ctypes.byref(params))
    if status != 0:
        raise ConversionError(
            f"llama.cpp could not quantize {src.name} (status {status}; see the crest_edge.llamacpp log)"
        )

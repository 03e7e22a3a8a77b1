"""GGUF converter: one self-describing .gguf file that llama.cpp runs as its `bert` architecture.

f32/f16/bf16 are written directly with the `gguf` package. The quantized types are made by
llama.cpp's own quantizer from an f32 file written first; the quantizer copies every metadata
key, so the manifest (with the final quantization) and the tokenizer survive it. The classifier
head (`cls`, `cls.output`), the position and token-type tables stay F32 in every file.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from crest_edge.errors import ConversionError
from crest_edge.extras import require
from crest_edge.gguf_meta import MANIFEST_KEY, SENTENCEPIECE_KEY
from crest_edge.tokenizer import SPM_FILE

from .common import base_manifest

ARCH = "bert"
POOLING_RANK = 4
# --quant -> llama_ftype for llama.cpp's quantizer (None: written directly)
QUANTS = {
    "f32": None, "f16": None, "bf16": None,
    "q8_0": 7, "q6_k": 18, "q5_k_m": 17, "q4_k_m": 15, "q4_0": 2,
}
REFUSED = {
    "int8": "--quant int8 is not a GGUF type; use q8_0",
    "int4": "--quant int4 is not a GGUF type; use q4_k_m or q4_0",
}
# Tensors kept F32 whatever the quantization (regexes, as llama.cpp's tensor overrides take them).
KEEP_F32_PREFIXES = ("cls.", "position_embd.", "token_types.")
KEEP_F32 = tuple("^" + p.replace(".", r"\.") for p in KEEP_F32_PREFIXES)
# sentencepiece piece types, as llama.cpp stores them
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

_LAYER_NAMES = {
    "attention.self.query": "attn_q", "attention.self.key": "attn_k", "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output", "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up", "output.dense": "ffn_down", "output.LayerNorm": "layer_output_norm",
}
_TOP_NAMES = {
    "roberta.embeddings.word_embeddings": "token_embd",
    "roberta.embeddings.position_embeddings": "position_embd",
    "roberta.embeddings.token_type_embeddings": "token_types",
    "roberta.embeddings.LayerNorm": "token_embd_norm",
    "classifier.dense": "cls",
    "classifier.out_proj": "cls.output",
}


def gguf_name(hf_name: str) -> str:
    stem, kind = hf_name.rsplit(".", 1)
    if stem in _TOP_NAMES:
        return f"{_TOP_NAMES[stem]}.{kind}"
    prefix = "roberta.encoder.layer."
    block, rest = stem[len(prefix):].split(".", 1)
    return f"blk.{block}.{_LAYER_NAMES[rest]}.{kind}"


def write(checkpoint, tensors, out: Path, quant: str) -> Path:
    out = Path(out)
    ftype = QUANTS[quant]
    if ftype is None:
        _write_gguf(checkpoint, tensors, out, quant, quant)
        return out
    plain = out.with_name(out.name + ".f32")
    try:
        _write_gguf(checkpoint, tensors, plain, "f32", quant)
        quantize(plain, out, ftype)
    finally:
        plain.unlink(missing_ok=True)
    return out


def _write_gguf(checkpoint, tensors, out: Path, dtype: str, quant: str) -> None:
    """Write `out` with weights in `dtype` (f32/f16/bf16); the manifest says `quant`."""
    gguf = require("gguf", "writing GGUF files")
    config = checkpoint.config
    sp_path = checkpoint.path / SPM_FILE
    if not sp_path.is_file():
        raise ConversionError(f"{checkpoint.path}: no {SPM_FILE} (a GGUF carries the sentencepiece model inside)")
    sp_bytes = sp_path.read_bytes()
    manifest = base_manifest(checkpoint, "gguf", quant, "llama-cpp-python", "gguf")
    manifest.model["head_dtype"] = "f32"

    writer = gguf.GGUFWriter(str(out), ARCH)
    writer.add_name(f"crest-edge {checkpoint.path.name}")
    writer.add_file_type({"f32": 0, "f16": 1, "bf16": 32}[dtype])
    writer.add_context_length(checkpoint.max_length)
    writer.add_embedding_length(checkpoint.hidden_size)
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(checkpoint.num_layers)
    writer.add_head_count(checkpoint.num_heads)
    writer.add_layer_norm_eps(checkpoint.layer_norm_eps)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.RANK)
    writer.add_classifier_output_labels(checkpoint.labels)
    _add_vocab(writer, sp_bytes, int(config["vocab_size"]), int(config.get("type_vocab_size", 1)), checkpoint.path)
    writer.add_string(MANIFEST_KEY, manifest.to_json())
    writer.add_array(SENTENCEPIECE_KEY, sp_bytes)  # bytes -> a uint8 array

    offset = checkpoint.pad_id + 1  # HF position row i+2 is llama.cpp position i
    for name in checkpoint.expected_shapes():  # ignores extras such as a pooler
        array = tensors[name]
        if name == "roberta.embeddings.position_embeddings.weight":
            array = array[offset:]
        target = gguf_name(name)
        if array.ndim == 1 or dtype == "f32" or target.startswith(KEEP_F32_PREFIXES):
            writer.add_tensor(target, np.ascontiguousarray(array, dtype=np.float32))
        elif dtype == "f16":
            writer.add_tensor(target, np.ascontiguousarray(array, dtype=np.float16))
        else:
            raw = gguf.quants.quantize(np.ascontiguousarray(array), gguf.GGMLQuantizationType.BF16)
            writer.add_tensor(target, raw, raw_dtype=gguf.GGMLQuantizationType.BF16)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _add_vocab(writer, sp_bytes: bytes, vocab_size: int, type_vocab_size: int, origin) -> None:
    """XLM-R's tokenizer as llama.cpp's UGM ("t5") vocabulary, in the fairseq id layout."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(sp_bytes)
    n = sp.vocab_size()
    if not (sp.IsUnknown(0) and sp.IsControl(1) and sp.IsControl(2)):
        raise ConversionError(f"{origin}: sentencepiece ids 0/1/2 are not <unk>/<s>/</s> as XLM-R's are")
    if n + 2 > vocab_size:
        raise ConversionError(f"{origin}: {n} sentencepiece pieces do not fit vocab_size {vocab_size}")
    normalizer = _normalizer_spec(sp_bytes)

    tokens = ["<s>", "<pad>", "</s>", "<unk>"]
    scores = [0.0, 0.0, 0.0, 0.0]
    types = [CONTROL, CONTROL, CONTROL, UNKNOWN]
    for i in range(3, n):  # fairseq id = sentencepiece id + 1
        tokens.append(sp.IdToPiece(i))
        scores.append(sp.GetScore(i))
        types.append(CONTROL if sp.IsControl(i) else UNUSED if sp.IsUnused(i)
                     else BYTE if sp.IsByte(i) else NORMAL)
    for i in range(len(tokens), vocab_size - 1):
        tokens.append(f"[PAD{i}]")
        scores.append(-10000.0)
        types.append(UNUSED)
    mask_id = len(tokens)
    tokens.append("<mask>")
    scores.append(0.0)
    types.append(CONTROL)

    writer.add_tokenizer_model("t5")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_token_type_count(type_vocab_size)
    writer.add_add_space_prefix(normalizer["add_dummy_prefix"])
    writer.add_remove_extra_whitespaces(normalizer["remove_extra_whitespaces"])
    if normalizer["precompiled_charsmap"]:
        writer.add_precompiled_charsmap(normalizer["precompiled_charsmap"])
    writer.add_bos_token_id(0)
    writer.add_pad_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_sep_token_id(2)
    writer.add_unk_token_id(3)
    writer.add_mask_token_id(mask_id)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)


def _normalizer_spec(model: bytes) -> dict:
    """The three NormalizerSpec fields llama.cpp needs, read from the sentencepiece ModelProto.

    A few lines of protobuf wire format instead of a dependency on protobuf.
    """
    spec = {"precompiled_charsmap": b"", "add_dummy_prefix": True, "remove_extra_whitespaces": True}
    for field, value in _proto_fields(model):
        if field == 3:  # ModelProto.normalizer_spec
            for sub, sub_value in _proto_fields(value):
                if sub == 2:
                    spec["precompiled_charsmap"] = sub_value
                elif sub == 3:
                    spec["add_dummy_prefix"] = bool(sub_value)
                elif sub == 4:
                    spec["remove_extra_whitespaces"] = bool(sub_value)
    return spec


def _proto_fields(buf: bytes):
    """Yield (field number, value) of a protobuf message: ints for varints, bytes for the rest."""
    pos = 0

    def varint():
        nonlocal pos
        result = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while pos < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            yield field, varint()
        elif wire == 2:
            size = varint()
            yield field, buf[pos:pos + size]
            pos += size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield field, buf[pos:pos + size]
            pos += size
        else:
            raise ConversionError(f"sentencepiece model: unsupported protobuf wire type {wire}")


def quantize(src: Path, out: Path, ftype: int) -> None:
    """Quantize `src` into `out` with llama.cpp, keeping the KEEP_F32 tensors in F32."""
    llama_cpp = require("llama_cpp", "quantizing GGUF files")
    from crest_edge.runtimes.llamacpp import route_logs

    route_logs(llama_cpp)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = os.cpu_count() or 1
    # A NULL pattern ends llama.cpp's override list.
    overrides = (llama_cpp.llama_model_tensor_override * (len(KEEP_F32) + 1))()
    for slot, pattern in zip(overrides, KEEP_F32):
        slot.pattern, slot.type = pattern.encode(), 0  # GGML_TYPE_F32
    params.tt_overrides = ctypes.cast(overrides, ctypes.POINTER(llama_cpp.llama_model_tensor_override))
    status = llama_cpp.llama_model_quantize(str(src).encode(), str(out).encode(), ctypes.byref(params))
    if status != 0:
        raise ConversionError(f"llama.cpp could not quantize {src.name} (status {status}; see the crest_edge.llamacpp log)")

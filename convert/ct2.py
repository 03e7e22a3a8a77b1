"""Checkpoint -> CTranslate2 encoder artifact.

The CT2 model is built from the checkpoint's own tensors through ctranslate2's spec API, the
way its XLM-R loader fills the spec (ctranslate2's TransformersConverter fails under
transformers 5 and drops the classification head anyway). The head ships beside the model as
fp32 `head.npz`; the adapter applies it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from crest_edge.checkpoint import Checkpoint
from crest_edge.extras import require
from crest_edge.tokenizer import SPM_FILE

from .common import base_manifest, copy_tokenizer

QUANTS = ("int8", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32")
_NO_4BIT = (
    "CTranslate2 has no 4-bit kernels for encoders; "
    "use `--to gguf --quant q4_k_m` (or q4_0) or `--to onnx --quant int4`"
)
REFUSED = {
    q: f"--quant {q}: {_NO_4BIT}"
    for q in ("int4", "int4_float16", "int4_float32", "int4_bfloat16", "q4", "q4_0", "q4_1",
              "q4_k", "q4_k_m", "q4_k_s", "awq", "gptq", "nf4", "fp4", "4bit", "4-bit", "w4a16")
}
INT8 = ("int8", "int8_float16", "int8_bfloat16")
# Linear weights of int8 artifacts keep 7 bits (+-63), not 8. On x86 CPUs without VNNI (AVX2: most
# laptops) CT2's int8 GEMM (oneDNN; MKL only on Intel) multiplies u8 activations by s8 weights with
# vpmaddubsw, which saturates a pair of products at int16: 255 * 127 * 2 > 32767. Measured on the demo,
# AMD EPYC (AVX2, no VNNI), parity corpus: 8-bit weights 99.51% agreement, max |dp| 0.104 (fails the
# 8-bit gate); 7-bit weights 100%, 0.036; MKL forced (no saturation, 8-bit) 100%, 0.032 but 3-6x slower.
INT8_WEIGHT_BITS = 7
MODEL_FILE = "model.bin"
HEAD_FILE = "head.npz"
HEAD_TENSORS = ("dense.weight", "dense.bias", "out_proj.weight", "out_proj.bias")


def write(checkpoint: Checkpoint, tensors: dict[str, np.ndarray], out, quant: str) -> Path:
    require("ctranslate2", "the ct2 converter")
    out = Path(out)
    out.mkdir(parents=True)
    spec = build_spec(checkpoint, tensors)
    spec.validate()
    linears = _linear_specs(spec)
    originals = [np.array(linear.weight.numpy(), dtype=np.float32) for linear in linears] if quant in INT8 else []
    spec.optimize(quantization=quant)
    for linear, weight in zip(linears, originals):
        requantize(linear, weight, INT8_WEIGHT_BITS)
    spec.save(str(out))
    np.savez(out / HEAD_FILE, **{n: np.asarray(tensors["classifier." + n], np.float32) for n in HEAD_TENSORS})
    copy_tokenizer(checkpoint, out)
    manifest = base_manifest(checkpoint, "ct2", quant, "ctranslate2")
    if quant in INT8:
        manifest.model["linear_weight_bits"] = INT8_WEIGHT_BITS
    manifest.record_files(out, sorted(p.name for p in out.iterdir()))
    manifest.write(out)
    return out


def _linear_specs(spec) -> list:
    """Every LinearSpec of the encoder layers (fused QKV, attention output, FFN up and down)."""
    found = []
    for layer in spec.encoder.layer:
        found += [*layer.self_attention.linear, layer.ffn.linear_0, layer.ffn.linear_1]
    return found


def requantize(linear, weight: np.ndarray, bits: int) -> None:
    """Store `weight` in `linear` as int8 values within +-(2**(bits-1) - 1), one scale per output row,
    the layout CT2's own int8 quantization writes (weight * scale, rounded; weight_scale = scale)."""
    from ctranslate2.specs.model_spec import NumpyVariable

    top = 2 ** (bits - 1) - 1
    amax = np.abs(weight).max(axis=1)
    amax[amax == 0] = top
    scale = (top / amax).astype(np.float32)
    linear.weight = NumpyVariable(np.rint(weight * scale[:, None]).astype(np.int8))
    linear.weight_scale = NumpyVariable(scale)


def build_spec(checkpoint: Checkpoint, tensors: dict[str, np.ndarray]):
    """A TransformerEncoderModelSpec holding the encoder (post-norm BERT layout, as XLM-R is)."""
    from ctranslate2.converters.utils import fuse_linear
    from ctranslate2.specs import common_spec, transformer_spec

    encoder = transformer_spec.TransformerEncoderSpec(
        checkpoint.num_layers,
        checkpoint.num_heads,
        pre_norm=False,
        activation=common_spec.Activation.GELU,  # exact erf gelu, as HF "gelu"
        layernorm_embedding=True,
        num_source_embeddings=2,  # word + token type, summed
        embeddings_merge=common_spec.EmbeddingsMerge.ADD,
    )
    spec = transformer_spec.TransformerEncoderModelSpec(encoder, pooling_layer=False)
    spec.config.layer_norm_epsilon = checkpoint.layer_norm_eps
    enc = spec.encoder
    enc.scale_embeddings = False

    def t(name):  # a private copy: quantization rewrites arrays in place
        return np.array(tensors["roberta." + name], dtype=np.float32)

    def linear(target, prefix):
        target.weight, target.bias = t(prefix + ".weight"), t(prefix + ".bias")

    def norm(target, prefix):
        target.gamma, target.beta = t(prefix + ".weight"), t(prefix + ".bias")

    enc.embeddings[0].weight = t("embeddings.word_embeddings.weight")
    enc.embeddings[1].weight = t("embeddings.token_type_embeddings.weight")
    # HF position ids start at padding_idx + 1; CT2 positions start at 0.
    enc.position_encodings.encodings = t("embeddings.position_embeddings.weight")[checkpoint.pad_id + 1:]
    norm(enc.layernorm_embedding, "embeddings.LayerNorm")
    for i, layer in enumerate(enc.layer):
        p = f"encoder.layer.{i}."
        qkv = [common_spec.LinearSpec() for _ in range(3)]
        for part, name in zip(qkv, ("query", "key", "value")):
            linear(part, p + "attention.self." + name)
        fuse_linear(layer.self_attention.linear[0], qkv)
        linear(layer.self_attention.linear[1], p + "attention.output.dense")
        norm(layer.self_attention.layer_norm, p + "attention.output.LayerNorm")
        linear(layer.ffn.linear_0, p + "intermediate.dense")
        linear(layer.ffn.linear_1, p + "output.dense")
        norm(layer.ffn.layer_norm, p + "output.LayerNorm")
    spec.register_vocabulary(vocabulary(checkpoint, enc.embeddings[0].weight.shape[0]))
    return spec


def vocabulary(checkpoint: Checkpoint, size: int) -> list[str]:
    """Token strings in fairseq id order (id i >= 4 is sentencepiece piece i - 1, <mask> last).

    The adapter feeds ids, so this only documents the model for anyone using CT2 directly.
    """
    pieces = []
    if (checkpoint.path / SPM_FILE).is_file():
        sentencepiece = require("sentencepiece", "the ct2 vocabulary")
        sp = sentencepiece.SentencePieceProcessor(model_file=str(checkpoint.path / SPM_FILE))
        pieces = [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]
    tokens = ["<s>", "<pad>", "</s>", "<unk>"] + pieces[: max(size - 5, 0)]
    tokens += [f"<extra_id_{i}>" for i in range(size - 1 - len(tokens))]
    return tokens + ["<mask>"]

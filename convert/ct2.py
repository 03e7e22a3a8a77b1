"""Checkpoint -> CTranslate2 encoder artifact.

The CT2 model is built from the checkpoint's own tensors through ctranslate2's spec API, the
way its XLM-R loader fills the spec (ctranslate2's TransformersConverter fails under
transformers 5 and drops the classification head anyway). The head ships beside the model as
fp32 `head.npz`; the adapter applies it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crest_edge.extras import require
from crest_edge.formats import ct2 as fmt
from crest_edge.formats import xlmr
from crest_edge.formats.checkpoint import Checkpoint
from crest_edge.tokenizer import MASK_TOKEN, SPECIAL_TOKENS, SPM_FILE
from crest_edge.tokenizer.proto import SentencePieceModel

from .common import base_manifest, copy_tokenizer


def write(checkpoint: Checkpoint, tensors: dict[str, np.ndarray], out, quant: str) -> Path:
    require("ctranslate2", "the ct2 converter")
    out = Path(out)
    out.mkdir(parents=True)
    spec = build_spec(checkpoint, tensors)
    spec.validate()
    linears = _linear_specs(spec)
    originals = [np.array(linear.weight.numpy(), dtype=np.float32) for linear in linears] if quant in fmt.INT8 else []
    spec.optimize(quantization=quant)
    for linear, weight in zip(linears, originals):
        requantize(linear, weight, fmt.INT8_WEIGHT_BITS)
    spec.save(str(out))
    np.savez(
        out / fmt.HEAD_FILE, **{n: np.asarray(tensors[xlmr.HEAD_PREFIX + n], np.float32) for n in fmt.HEAD_TENSORS}
    )
    copy_tokenizer(checkpoint, out)
    manifest = base_manifest(checkpoint, fmt.NAME, quant, *fmt.PACKAGES)
    if quant in fmt.INT8:
        manifest.model["linear_weight_bits"] = fmt.INT8_WEIGHT_BITS
        manifest.quantization_recipe = dict(fmt.INT8_RECIPE)
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
        return np.array(tensors[name], dtype=np.float32)

    def linear(target, prefix):
        target.weight, target.bias = t(prefix + ".weight"), t(prefix + ".bias")

    def norm(target, prefix):
        target.gamma, target.beta = t(prefix + ".weight"), t(prefix + ".bias")

    enc.embeddings[0].weight = t(f"{xlmr.WORD_EMBEDDINGS}.weight")
    enc.embeddings[1].weight = t(f"{xlmr.TOKEN_TYPE_EMBEDDINGS}.weight")
    # HF position ids start at padding_idx + 1; CT2 positions start at 0.
    enc.position_encodings.encodings = t(f"{xlmr.POSITION_EMBEDDINGS}.weight")[checkpoint.pad_id + 1 :]
    norm(enc.layernorm_embedding, xlmr.EMBEDDINGS_NORM)
    for i, layer in enumerate(enc.layer):
        p = xlmr.layer_prefix(i)
        qkv = [common_spec.LinearSpec() for _ in range(3)]
        for part, name in zip(qkv, (xlmr.QUERY, xlmr.KEY, xlmr.VALUE)):
            linear(part, p + name)
        fuse_linear(layer.self_attention.linear[0], qkv)
        linear(layer.self_attention.linear[1], p + xlmr.ATTENTION_OUT)
        norm(layer.self_attention.layer_norm, p + xlmr.ATTENTION_NORM)
        linear(layer.ffn.linear_0, p + xlmr.FFN_UP)
        linear(layer.ffn.linear_1, p + xlmr.FFN_DOWN)
        norm(layer.ffn.layer_norm, p + xlmr.OUTPUT_NORM)
    spec.register_vocabulary(vocabulary(checkpoint, enc.embeddings[0].weight.shape[0]))
    return spec


def vocabulary(checkpoint: Checkpoint, size: int) -> list[str]:
    """Token strings in fairseq id order (id i >= 4 is sentencepiece piece i - 1, <mask> last).

    The adapter feeds ids, so this only documents the model for anyone using CT2 directly.
    """
    pieces = []
    if (checkpoint.path / SPM_FILE).is_file():
        pieces = SentencePieceModel((checkpoint.path / SPM_FILE).read_bytes()).pieces[3:]
    tokens = [*SPECIAL_TOKENS, *pieces[: max(size - 5, 0)]]
    tokens += [f"<extra_id_{i}>" for i in range(size - 1 - len(tokens))]
    return [*tokens, MASK_TOKEN]

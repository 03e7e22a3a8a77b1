"""XLM-R's forward pass in numpy, for measuring activations at the inputs of every Linear layer.

Converters need the fp32 model's activation statistics (SmoothQuant scales, static activation ranges)
without depending on torch: this runs the checkpoint's own tensors, one unpadded sequence at a time,
and hands each Linear input to an observer. erf-GELU uses Abramowitz & Stegun 7.1.26 (error < 1.5e-7),
plenty for statistics; tests compare the logits with transformers'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from crest_edge.formats import xlmr as X
from crest_edge.formats.checkpoint import Checkpoint

# The input of each group of Linear layers in a layer, named by what consumes it.
SITES = ("qkv", "attention_out", "ffn_up", "ffn_down")
CONSUMERS = {
    "qkv": (X.QUERY, X.KEY, X.VALUE),  # the LayerNorm before the layer (embeddings' or the last layer's)
    "attention_out": (X.ATTENTION_OUT,),  # attention's context: softmax(QK^T) V
    "ffn_up": (X.FFN_UP,),  # the attention LayerNorm
    "ffn_down": (X.FFN_DOWN,),  # GELU's output
}
Observer = Callable[[int, str, np.ndarray], None]  # (layer, site, activations [tokens, channels])


def _erf(x: np.ndarray) -> np.ndarray:
    sign, a = np.sign(x), np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _norm(x: np.ndarray, tensors, prefix: str, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * tensors[prefix + ".weight"] + tensors[prefix + ".bias"]


def _linear(x: np.ndarray, tensors, prefix: str) -> np.ndarray:
    return x @ tensors[prefix + ".weight"].T + tensors[prefix + ".bias"]


def forward(
    checkpoint: Checkpoint, tensors: dict, ids: Sequence[int], observe: Observer | None = None, input_scales=None
) -> np.ndarray:
    """Logits [num_labels] of one complete id sequence; `observe` sees every Linear input on the way.
    `input_scales` ((layer, site) -> factor, as smoothing.smooth returns) multiplies a site's input
    before its Linear layers read it, as a converter's own operation would."""
    input_scales = input_scales or {}

    def site(layer, name, a):
        a = a * input_scales[layer, name] if (layer, name) in input_scales else a
        if observe:
            observe(layer, name, a)
        return a

    eps, heads, pad = checkpoint.layer_norm_eps, checkpoint.num_heads, checkpoint.pad_id
    ids = np.asarray(ids)
    positions = pad + 1 + np.arange(len(ids))
    x = (
        tensors[f"{X.WORD_EMBEDDINGS}.weight"][ids]
        + tensors[f"{X.POSITION_EMBEDDINGS}.weight"][positions]
        + tensors[f"{X.TOKEN_TYPE_EMBEDDINGS}.weight"][0]
    )
    x = _norm(x, tensors, X.EMBEDDINGS_NORM, eps)
    for layer in range(checkpoint.num_layers):
        p = X.layer_prefix(layer)
        h = site(layer, "qkv", x)
        q, k, v = (
            _linear(h, tensors, p + name).reshape(len(ids), heads, -1).transpose(1, 0, 2) for name in CONSUMERS["qkv"]
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(1, 0, 2).reshape(len(ids), -1)
        context = site(layer, "attention_out", context)
        a = _norm(_linear(context, tensors, p + X.ATTENTION_OUT) + x, tensors, p + X.ATTENTION_NORM, eps)
        g = _gelu(_linear(site(layer, "ffn_up", a), tensors, p + X.FFN_UP))
        g = site(layer, "ffn_down", g)
        x = _norm(_linear(g, tensors, p + X.FFN_DOWN) + a, tensors, p + X.OUTPUT_NORM, eps)
    cls = np.tanh(_linear(x[0], tensors, X.HEAD_DENSE))
    return _linear(cls, tensors, X.HEAD_OUT)


def input_absmax(
    checkpoint: Checkpoint, tensors: dict, sequences, input_scales=None
) -> dict[tuple[int, str], np.ndarray]:
    """Per-channel max |activation| at every site of every layer over all tokens of `sequences` (after
    `input_scales`, as `forward` applies them)."""
    found: dict[tuple[int, str], np.ndarray] = {}

    def observe(layer, site, a):
        peak = np.abs(a).max(axis=0)
        key = (layer, site)
        found[key] = peak if key not in found else np.maximum(found[key], peak)

    for ids in sequences:
        forward(checkpoint, tensors, ids, observe, input_scales)
    return found

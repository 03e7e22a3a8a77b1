"""SmoothQuant-style rescaling before quantization, written once for every converter.

A Linear layer computes W x. For per-channel scales s > 0, W x = (W diag(s)) (x / s): dividing input
channel j by s_j and multiplying weight column j by s_j changes nothing in exact arithmetic, but moves
an activation outlier's range into the weights, where per-channel weight scales absorb it
(SmoothQuant, arXiv 2211.10438): s_j = max|x_j|^alpha / max|W[:, j]|^(1 - alpha).

Where the division by s can live, in XLM-R (post-LayerNorm):
- attention_out: its input is softmax(QK^T) V, linear in V, so x / s is V's rows and bias divided by
  s. Exact inside the weights: every format can use it.
- qkv and ffn_up read a LayerNorm's output, which also feeds the residual into the next LayerNorm.
  Folding 1/s into that LayerNorm's gain and bias would scale the residual too, and a LayerNorm of
  per-channel-scaled input is not the LayerNorm of the input: not equivalent. The division has to be an
  operation of its own, on the branch into the Linear layer (ONNX can add it; CT2 and llama.cpp cannot).
- ffn_down reads GELU's output: GELU(z / s) is not GELU(z) / s, so likewise an operation of its own.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crest_edge.formats import xlmr as X

from .activations import CONSUMERS, SITES

FOLDED_IN_WEIGHTS = ("attention_out",)  # sites whose division by s the tensors themselves carry
NEEDS_OWN_OP = tuple(site for site in SITES if site not in FOLDED_IN_WEIGHTS)
MIN_SCALE = 1e-4  # a channel that never fired (max 0) keeps a finite, harmless scale


@dataclasses.dataclass
class Smoothed:
    tensors: dict[str, np.ndarray]  # the rescaled checkpoint tensors
    input_scales: dict[tuple[int, str], np.ndarray]  # (layer, site) -> multiply that site's input by this
    alpha: float
    sites: tuple[str, ...]

    def describe(self) -> dict:
        """For the manifest."""
        return {
            "method": "smoothquant",
            "alpha": self.alpha,
            "sites": list(self.sites),
            "folded_in_weights": [s for s in self.sites if s in FOLDED_IN_WEIGHTS],
            "input_scale_ops": [s for s in self.sites if s in NEEDS_OWN_OP],
        }


def scales(absmax: np.ndarray, weights: list[np.ndarray], alpha: float) -> np.ndarray:
    """SmoothQuant's per-input-channel s for one site; `weights` are its consumers' [out, in] matrices."""
    w = np.max([np.abs(m).max(axis=0) for m in weights], axis=0)
    s = np.power(np.maximum(absmax, MIN_SCALE), alpha) / np.power(np.maximum(w, MIN_SCALE), 1.0 - alpha)
    return np.clip(s, MIN_SCALE, 1.0 / MIN_SCALE).astype(np.float32)


def smooth(tensors: dict, absmax: dict[tuple[int, str], np.ndarray], alpha: float, sites=SITES) -> Smoothed:
    """Rescale every layer's `sites` by SmoothQuant scales from `absmax` (activations.input_absmax).

    Returns new tensors (the input is not modified) and, for each site that needs an operation of its
    own (NEEDS_OWN_OP), the factor 1/s its input must be multiplied by before the Linear layer.
    """
    unknown = set(sites) - set(SITES)
    if unknown:
        raise ValueError(f"unknown smoothing sites {sorted(unknown)}; choose from {', '.join(SITES)}")
    out = dict(tensors)  # every rescaling composes on `out`: V is rescaled by both qkv and attention_out
    input_scales = {}
    for layer, site in sorted(absmax):
        if site not in sites:
            continue
        p = X.layer_prefix(layer)
        names = [p + name + ".weight" for name in CONSUMERS[site]]
        s = scales(absmax[layer, site], [tensors[n] for n in names], alpha)  # from the checkpoint's weights
        for name in names:
            out[name] = (out[name] * s[None, :]).astype(np.float32)
        if site == "attention_out":  # context = attention(V): divide V's output channels instead
            weight, bias = p + X.VALUE + ".weight", p + X.VALUE + ".bias"
            out[weight] = (out[weight] / s[:, None]).astype(np.float32)
            out[bias] = (out[bias] / s).astype(np.float32)
        else:
            input_scales[layer, site] = (1.0 / s).astype(np.float32)
    return Smoothed(out, input_scales, alpha, tuple(sites))

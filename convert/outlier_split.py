"""Outlier channels computed apart in float: LLM.int8()'s mixed-precision decomposition (arXiv 2208.07339).

A Linear layer W x is also W[:, rest] x[rest] + W[:, out] x[out]. When a few fixed input channels carry
far larger activations than the others, an int8 activation scale sized for them leaves the rest a few
steps each. Splitting them off keeps them exact in a small float MatMul (K = a handful of channels) and
lets the int8 MatMul see only the ordinary ones, its weights' columns for the outliers zeroed so that
they no longer widen the per-output-channel weight scales either.

The split is exact in float arithmetic (tested); which channels are split is chosen from the calibrated
max |activation| per channel, after any SmoothQuant rescaling (a channel's max scales with its factor).
"""

from __future__ import annotations

import numpy as np

from crest_edge.extras import require


def outlier_channels(absmax: np.ndarray, ratio: float, most: int) -> list[int]:
    """The channels whose max |activation| exceeds `ratio` times the median channel's, largest first,
    at most `most` of them."""
    median = float(np.median(absmax))
    order = np.argsort(-absmax, kind="stable")[:most]
    return [int(c) for c in order if absmax[c] > ratio * median]


def split_linear(linear, channels: list[int], split=None):
    """A torch module computing `linear` as an ordinary part (submodule `main`, to be quantized) plus the
    `channels` part (submodule `outliers`, float); the exporter names their MatMuls after them. Linear
    layers reading one input share one `split` (input_split), so it is computed once for all of them."""
    torch = require("torch", "splitting outlier channels")
    split = split or input_split(linear.in_features, channels)

    class SplitLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.split = split
            self.main = torch.nn.Linear(linear.in_features, linear.out_features)
            self.outliers = torch.nn.Linear(len(channels), linear.out_features, bias=False)
            with torch.no_grad():
                weight = linear.weight.detach().clone()
                self.outliers.weight.copy_(weight[:, channels])
                weight[:, channels] = 0.0
                self.main.weight.copy_(weight)
                self.main.bias.copy_(linear.bias)

        def forward(self, x):
            rest, outliers = self.split(x)
            return self.main(rest) + self.outliers(outliers)

    return SplitLinear()


def input_split(width: int, channels: list[int]):
    """A module x -> (x with `channels` zeroed, x's `channels`), which remembers its last input: called
    again on the same tensor (Q, K and V read one), it returns the same outputs, so the exported graph
    has one Mul and one Gather per input instead of one per reader (and ORT one quantizer for them)."""
    torch = require("torch", "splitting outlier channels")

    class InputSplit(torch.nn.Module):
        def __init__(self):
            super().__init__()
            keep = torch.ones(width)
            keep[channels] = 0.0
            self.register_buffer("keep", keep)
            self.register_buffer("channels", torch.tensor(channels, dtype=torch.long))
            self.last = None  # (input, outputs); holding the input keeps its identity from being reused

        def forward(self, x):
            if self.last is None or self.last[0] is not x:
                self.last = (x, (x * self.keep, torch.index_select(x, -1, self.channels)))
            return self.last[1]

    return InputSplit()


def split_qkv(model, channels: dict[int, list[int]]) -> None:
    """Replace Q, K and V of each layer in `channels` (layer -> its outlier channels) by split_linear,
    the three sharing one input split."""
    for index, found in channels.items():
        attention = model.roberta.encoder.layer[index].attention.self
        if found:
            split = input_split(attention.query.in_features, found)
            for name in ("query", "key", "value"):
                setattr(attention, name, split_linear(getattr(attention, name), found, split))

"""Activation statistics of an XLM-R checkpoint: max |a| / std per layer at the four sites where
pretrained encoders carry outliers (LLM.int8(), arXiv 2208.07339; SmoothQuant, arXiv 2211.10438).

Sites, per encoder layer, over the real (unpadded) tokens of the texts:
- `ffn_input`: the attention LayerNorm's output, which feeds the FFN up-projection;
- `gelu_output`: the FFN's intermediate activations, which feed the down-projection;
- `ffn_output`: the down-projection's output, before the residual add;
- `layer_output`: the output LayerNorm's output, which feeds the next layer's Q/K/V.

max/std is the largest |a| over every token and channel divided by the std over the same values.
For the hidden-sized sites the channel holding the maximum is kept, so fixed outlier dimensions show.
Needs torch and transformers (the `reference` extra).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from ..data import read_jsonl, seed_corpus_path
from ..extras import require
from ..tokenizer import load_tokenizer

SITES = ("ffn_input", "gelu_output", "ffn_output", "layer_output")
HIDDEN_SITES = ("ffn_input", "ffn_output", "layer_output")
DEFAULT_TEXTS = 100
MAX_TOKENS = 512


@dataclasses.dataclass
class SiteStats:
    ratio: float  # max |a| / std
    max_abs: float
    std: float
    argmax_channel: int


@dataclasses.dataclass
class ActivationReport:
    checkpoint: str
    texts: int
    tokens: int
    layers: list[dict[str, SiteStats]]  # one {site: stats} per encoder layer

    def summary(self) -> dict[str, tuple[float, float]]:
        """site -> (median, max) of max/std over the layers."""
        out = {}
        for site in SITES:
            ratios = [layer[site].ratio for layer in self.layers]
            out[site] = (float(np.median(ratios)), float(np.max(ratios)))
        return out

    def outlier_channels(self, top: int = 2) -> tuple[list[int], int]:
        """The `top` hidden channels that hold the maximum most often (any hidden-sized site), and in how
        many layers the maximum of every hidden-sized site lies in one of them."""
        votes = Counter(layer[s].argmax_channel for layer in self.layers for s in HIDDEN_SITES)
        channels = [c for c, _ in votes.most_common(top)]
        held = sum(all(layer[s].argmax_channel in channels for s in HIDDEN_SITES) for layer in self.layers)
        return channels, held


def sample_texts(n: int = DEFAULT_TEXTS, path=None) -> list[str]:
    """`n` texts spread evenly over a corpus (default: the seed set, so every language is in)."""
    rows = read_jsonl(path or seed_corpus_path())
    step = max(1, len(rows) // n)
    return [row["text"] for row in rows[::step][:n]]


def measure(checkpoint, texts: list[str] | None = None) -> ActivationReport:
    """Run the fp32 checkpoint on `texts` (default: `sample_texts()`), one text per call so no padding
    enters the statistics, and gather max/std at every site of every layer."""
    torch = require("torch", "activation statistics")
    transformers = require("transformers", "activation statistics")
    from ..formats.checkpoint import open_checkpoint

    path = open_checkpoint(checkpoint).path  # a clear error for anything that is not a checkpoint
    texts = sample_texts() if texts is None else texts
    tokenizer = load_tokenizer(path)
    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
        str(path), local_files_only=True, dtype=torch.float32
    ).eval()
    layers = model.roberta.encoder.layer
    seen: dict[tuple[int, str], list] = {(i, s): [] for i in range(len(layers)) for s in SITES}
    hooks = []
    for i, layer in enumerate(layers):

        def keep(site, index=i, output=True):
            def hook(module, args, result):
                value = (result if output else args[0]).detach()
                seen[index, site].append(value.reshape(-1, value.shape[-1]))

            return hook

        hooks += [
            layer.intermediate.dense.register_forward_hook(keep("ffn_input", output=False)),
            layer.output.dense.register_forward_hook(keep("gelu_output", output=False)),
            layer.output.dense.register_forward_hook(keep("ffn_output")),
            layer.output.register_forward_hook(keep("layer_output")),
        ]
    tokens = 0
    try:
        with torch.inference_mode():
            for text in texts:
                ids = [0, *tokenizer.encode(text)[: MAX_TOKENS - 2], 2]
                tokens += len(ids)
                model(input_ids=torch.tensor([ids]))
    finally:
        for hook in hooks:
            hook.remove()
    stats = []
    for i in range(len(layers)):
        row = {}
        for site in SITES:
            values = torch.cat(seen[i, site]).double()
            flat = values.abs().reshape(-1)
            top = int(flat.argmax())
            max_abs, std = float(flat[top]), float(values.std())
            row[site] = SiteStats(max_abs / std, max_abs, std, top % values.shape[-1])
        stats.append(row)
    return ActivationReport(str(path), len(texts), tokens, stats)


def markdown(report: ActivationReport, name: str | None = None) -> str:
    """The report as a markdown table: one row per layer, then median / max over the layers."""
    head = f"**{name or report.checkpoint}**: {report.texts} texts, {report.tokens} tokens; max \\|a\\| / std"
    lines = [head, "", "| layer | " + " | ".join(SITES) + " |", "|---" * (len(SITES) + 1) + "|"]
    for i, layer in enumerate(report.layers):
        cells = []
        for site in SITES:
            s = layer[site]
            channel = f" @{s.argmax_channel}" if site in HIDDEN_SITES else ""
            cells.append(f"{s.ratio:.1f} ({s.max_abs:.3g}{channel})")
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    summary = report.summary()
    lines.append("| median / max | " + " | ".join(f"{summary[s][0]:.0f} / {summary[s][1]:.0f}" for s in SITES) + " |")
    channels, held = report.outlier_channels()
    lines += [
        "",
        f"channels {channels} hold the maximum of every hidden-sized site in {held} of {len(report.layers)} layers",
    ]
    return "\n".join(lines)

"""Which matmul input breaks CTranslate2's int8 on a checkpoint: CT2's int8 (weights int8 per output row,
crest-edge's 7 bits; activations int8 per token, per call) simulated in torch at one site at a time, then
at all four, on the parity corpus, as a markdown table of max |Δp| and flips against float32:

    python scripts/ct2_int8_sites.py CHECKPOINT_DIR [--texts N] [--corpus FILE.jsonl]

Sites per encoder layer: qkv (the previous LayerNorm's output into Q, K and V), attention_output,
ffn_up, ffn_down (GELU's output). A simulation, not CT2 itself: its figures differ from CT2's by
rounding details, but it tells which site CT2's fixed graph would need to treat.
"""

from __future__ import annotations

import argparse
import copy
import sys

import numpy as np

from crest_edge.cli.argtypes import positive_int
from crest_edge.errors import CrestEdgeError
from crest_edge.extras import require
from crest_edge.formats.checkpoint import open_checkpoint
from crest_edge.formats.ct2 import INT8_WEIGHT_BITS
from crest_edge.parity.run import load_corpus
from crest_edge.tokenizer import BOS_ID, EOS_ID, load_tokenizer

SITES = {  # site -> the nn.Linear names (inside each encoder layer) that read it
    "qkv": ("attention.self.query", "attention.self.key", "attention.self.value"),
    "attention_output": ("attention.output.dense",),
    "ffn_up": ("intermediate.dense",),
    "ffn_down": ("output.dense",),
}


def _per_row(x, top: int):
    scale = x.abs().amax(-1, keepdim=True).clamp(min=1e-12) / top
    return (x / scale).round().clamp(-top, top) * scale


def _site_of(name: str) -> str | None:
    inner = name.split(".", 1)[1] if "." in name else name  # drop the layer index
    return next((site for site, linears in SITES.items() if inner in linears), None)


def _quantized(float_model, sites):
    """A copy of `float_model` with CT2's int8 simulated at `sites`."""
    torch = require("torch", "this script")
    model = copy.deepcopy(float_model)
    for name, module in model.roberta.encoder.layer.named_modules():
        if isinstance(module, torch.nn.Linear) and _site_of(name) in sites:
            with torch.no_grad():
                module.weight.copy_(_per_row(module.weight, 2 ** (INT8_WEIGHT_BITS - 1) - 1))
            module.register_forward_pre_hook(lambda _module, args: (_per_row(args[0], 127),))
    return model


def _p_unsafe(model, sequences) -> np.ndarray:
    torch = require("torch", "this script")
    with torch.inference_mode():
        logits = [model(input_ids=torch.tensor([s])).logits[0] for s in sequences]
    return torch.softmax(torch.stack(logits), -1)[:, -1].numpy()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", metavar="CHECKPOINT_DIR")
    parser.add_argument("--texts", type=positive_int, default=None, help="the first N texts (default: all)")
    parser.add_argument("--corpus", metavar="FILE.jsonl", help="default: the parity corpus")
    args = parser.parse_args(argv)
    try:
        torch = require("torch", "this script")
        torch.set_num_threads(2)
        rows = load_corpus(args.corpus)["rows"]  # the parity corpus by default; an empty file is refused
        open_checkpoint(args.checkpoint)  # one clear line for anything that is not an XLM-R checkpoint
        tokenizer = load_tokenizer(args.checkpoint)
        sequences = [[BOS_ID, *tokenizer.encode(r["text"])[:510], EOS_ID] for r in rows[: args.texts]]
        transformers = require("transformers", "this script")
        float_model = transformers.AutoModelForSequenceClassification.from_pretrained(
            args.checkpoint, dtype=torch.float32
        ).eval()
        reference = _p_unsafe(float_model, sequences)
        print(f"{len(sequences)} texts, {INT8_WEIGHT_BITS}-bit weights per row, int8 activations per token\n")
        print("| int8 at | max \\|Δp\\| | flips |\n|---|---:|---:|")
        for sites in [(s,) for s in SITES] + [tuple(SITES)]:
            got = _p_unsafe(_quantized(float_model, sites), sequences)
            flips = int(((got >= 0.5) != (reference >= 0.5)).sum())
            name = "all four" if len(sites) > 1 else sites[0]
            print(f"| {name} | {float(np.abs(got - reference).max()):.4f} | {flips} |", flush=True)
    except (CrestEdgeError, OSError) as exc:
        print(f"ct2_int8_sites: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

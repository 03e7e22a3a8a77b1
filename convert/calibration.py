"""Calibration for outlier-aware quantization: texts drawn from the project's seed set (never from the
parity corpus, which measures, so a gate never grades a model on the texts that tuned it), and the fp32
reference's activation statistics on them.

`input_second_moments` needs torch and transformers (the `reference` extra); `calibration_sequences`
(for the numpy probe in convert/activations.py and ONNX's static calibration) does not.
"""

from __future__ import annotations

import random

import numpy as np

from crest_edge.data import read_jsonl, seed_corpus_path
from crest_edge.extras import require
from crest_edge.formats import xlmr
from crest_edge.tokenizer import BOS_ID, EOS_ID, load_tokenizer

CALIBRATION_TEXTS = 256
MAX_TOKENS = 512
SOURCE = "crest_edge/data/seed.jsonl"  # as recorded in manifests


def calibration_texts(n: int = CALIBRATION_TEXTS, seed: int = 0) -> list[str]:
    """`n` seed-set texts drawn with `seed` (all of them if the set is smaller)."""
    texts = [row["text"] for row in read_jsonl(seed_corpus_path())]
    return random.Random(seed).sample(texts, min(n, len(texts)))


def calibration_sequences(checkpoint, n: int = CALIBRATION_TEXTS) -> list[list[int]]:
    """The calibration texts as complete id sequences (<s> ... </s>), cut to the model's length."""
    tokenizer = load_tokenizer(checkpoint.path)
    budget = checkpoint.max_length - 2
    return [[BOS_ID, *tokenizer.encode(text)[:budget], EOS_ID] for text in calibration_texts(n)]


def input_second_moments(checkpoint, texts: list[str]) -> dict[str, np.ndarray]:
    """{Hugging Face weight name: mean over tokens of x_j**2 per input channel j} for every encoder
    Linear, the reference run one text at a time (no padding in the statistics)."""
    torch = require("torch", "calibrating a quantization")
    transformers = require("transformers", "calibrating a quantization")
    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
        str(checkpoint.path), local_files_only=True, dtype=torch.float32
    ).eval()
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    hooks = []
    for i, layer in enumerate(model.roberta.encoder.layer):
        for name in xlmr.LAYER_LINEARS:
            module = layer.get_submodule(name)
            key = f"{xlmr.layer_prefix(i)}{name}.weight"

            def hook(module, args, key=key):
                x = args[0].detach().reshape(-1, args[0].shape[-1]).double()
                sums[key] = sums.get(key, 0) + (x * x).sum(0)
                counts[key] = counts.get(key, 0) + x.shape[0]

            hooks.append(module.register_forward_pre_hook(hook))
    tokenizer = load_tokenizer(checkpoint.path)
    try:
        with torch.inference_mode():
            for text in texts:
                ids = [BOS_ID, *tokenizer.encode(text)[: MAX_TOKENS - 2], EOS_ID]
                model(input_ids=torch.tensor([ids]))
    finally:
        for hook in hooks:
            hook.remove()
    return {key: (sums[key] / counts[key]).float().numpy() for key in sums}

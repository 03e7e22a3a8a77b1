"""Training a classifier on the project's seed set (crest_edge/data/seed.jsonl), shared by
scripts/train_demo.py and the outlier stress checkpoint. Never the parity corpus: that one measures.
Needs torch (the `reference` extra)."""

from __future__ import annotations

import random

from ..data import read_jsonl, seed_corpus_path
from ..tokenizer import BOS_ID, EOS_ID, PAD_ID

MAX_TOKENS = 64  # seed prompts are short; longer ones are cut for training only
LABEL_IDS = {"safe": 0, "unsafe": 1}


def encode(tokenizer, texts) -> list[list[int]]:
    return [[BOS_ID, *tokenizer.encode(t)[: MAX_TOKENS - 2], EOS_ID] for t in texts]


def seed_split(tokenizer, rng: random.Random):
    """(train ids, train labels, held-out ids, held-out labels): a 90/10 split of the seed set drawn
    from `rng` (scripts/train_demo.py's split for random.Random(0))."""
    rows = read_jsonl(seed_corpus_path())
    rng.shuffle(rows)
    held = len(rows) // 10
    ids = encode(tokenizer, [r["text"] for r in rows])
    labels = [LABEL_IDS[r["label"]] for r in rows]
    return ids[held:], labels[held:], ids[:held], labels[:held]


def batches(ids, labels, size: int, rng: random.Random):
    """Padded (input_ids, attention_mask, labels) tensors in an order drawn from `rng`."""
    import torch

    order = list(range(len(ids)))
    rng.shuffle(order)
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        width = max(len(ids[i]) for i in chunk)
        x = torch.full((len(chunk), width), PAD_ID, dtype=torch.long)
        for row, i in enumerate(chunk):
            x[row, : len(ids[i])] = torch.tensor(ids[i])
        yield x, (x != PAD_ID).long(), torch.tensor([labels[i] for i in chunk])


def accuracy(model, ids, labels) -> float:
    import torch

    correct = 0
    with torch.inference_mode():
        for x, mask, y in batches(ids, labels, 64, random.Random(0)):
            correct += int((model(input_ids=x, attention_mask=mask).logits.argmax(-1) == y).sum())
    return correct / max(1, len(ids))

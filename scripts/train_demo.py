"""Train the demo checkpoint shipped in crest_edge/demo/ from the project's own seed set.

A small XLM-R safe/unsafe classifier (hidden 256 so GGUF K-quants apply, 4 layers, ~3.3M
parameters, under 16 MB). It is a demo of the pipeline, not CREST. Deterministic for a given
seed and torch build:

    python scripts/train_demo.py [--epochs 30] [--out crest_edge/demo]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import sentencepiece as spm
import torch
from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

from crest_edge.data import parity_corpus_path, read_jsonl, seed_corpus_path
from crest_edge.devtools.seed_training import LABEL_IDS, accuracy, batches, encode, seed_split
from crest_edge.devtools.spm_train import train_sentencepiece
from crest_edge.devtools.synth import write_tokenizer_config, xlmr_config
from crest_edge.formats.checkpoint import write_safetensors
from crest_edge.tokenizer import XLMRTokenizer

PIECES = 4000
SHAPE = dict(layers=4, hidden=256, heads=4, ffn=512)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "crest_edge" / "demo"))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "1")))

    rows = read_jsonl(seed_corpus_path())
    train_sentencepiece([r["text"] for r in rows], PIECES, out / "sentencepiece.bpe.model", seed=args.seed)
    tokenizer = XLMRTokenizer.from_file(out / "sentencepiece.bpe.model")
    pieces = spm.SentencePieceProcessor(model_file=str(out / "sentencepiece.bpe.model")).get_piece_size()
    config_dict = xlmr_config(SHAPE["layers"], SHAPE["hidden"], SHAPE["heads"], SHAPE["ffn"], pieces + 2)
    model = XLMRobertaForSequenceClassification(XLMRobertaConfig(**config_dict))

    rng = random.Random(args.seed)
    train_ids, train_y, test_ids, test_y = seed_split(tokenizer, rng)

    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    steps = args.epochs * ((len(train_ids) + 31) // 32)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-4, total_steps=steps, pct_start=0.1)
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for x, mask, y in batches(train_ids, train_y, 32, rng):
            loss = torch.nn.functional.cross_entropy(model(input_ids=x, attention_mask=mask).logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss) * len(y)
        model.eval()
        print(
            f"epoch {epoch + 1:>2}: loss {total / len(train_ids):.4f}  held-out accuracy "
            f"{accuracy(model, test_ids, test_y):.3f}  ({time.time() - started:.0f} s)",
            flush=True,
        )

    parity = read_jsonl(parity_corpus_path())
    parity_acc = accuracy(
        model, encode(tokenizer, [r["text"] for r in parity]), [LABEL_IDS[r["label"]] for r in parity]
    )
    print(f"parity corpus accuracy (unseen sentences, many unseen languages): {parity_acc:.3f}")

    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items() if not k.endswith("position_ids")}
    write_safetensors(out / "model.safetensors", state)
    (out / "config.json").write_text(json.dumps(config_dict, indent=2) + "\n", encoding="utf-8")
    write_tokenizer_config(out)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"wrote {out} ({size / 1e6:.1f} MB)")
    assert size <= 16e6, "the demo checkpoint must stay under 16 MB"


if __name__ == "__main__":
    main()

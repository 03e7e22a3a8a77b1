"""Seeded, deterministic CREST-shaped checkpoints in Hugging Face layout, for tests and benchmarks.

The weights are random at the scales a trained XLM-R has (normal(0, 0.02) matrices, unit
LayerNorm gains), so engines do realistic work; the verdicts mean nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data import read_jsonl, seed_corpus_path
from ..errors import CrestEdgeError
from ..formats import xlmr as X
from ..formats.checkpoint import write_safetensors
from ..formats.outputs import SYNTH_MARK, check_synth_output

SHAPES = {
    # name: layers, hidden, heads, ffn, sentencepiece pieces (vocab = pieces + <pad> + <mask>)
    "tiny": dict(layers=2, hidden=256, heads=4, ffn=512, pieces=2000),
    "base": dict(layers=12, hidden=768, heads=12, ffn=3072, pieces=250_000),  # CREST-Base, ~278M
    "large": dict(layers=24, hidden=1024, heads=16, ffn=4096, pieces=250_000),  # CREST (0.5B), ~560M
}
LABELS = {0: "safe", 1: "unsafe"}
TRAINED_PIECES = 4000  # pieces actually learned from the seed corpus; the rest pad the vocab


def xlmr_config(layers: int, hidden: int, heads: int, ffn: int, vocab_size: int) -> dict:
    return {
        "architectures": ["XLMRobertaForSequenceClassification"],
        "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1,
        "hidden_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "vocab_size": vocab_size,
        "layer_norm_eps": 1e-5,
        "initializer_range": 0.02,
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "id2label": {str(k): v for k, v in LABELS.items()},
        "label2id": {v: k for k, v in LABELS.items()},
        "problem_type": "single_label_classification",
    }


def random_weights(config: dict, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, ffn = config["hidden_size"], config["intermediate_size"]

    def matrix(*shape):
        return rng.normal(0.0, 0.02, size=shape).astype(np.float32)

    def gain(n):
        return (1.0 + rng.normal(0.0, 0.05, size=n)).astype(np.float32)

    def bias(n):
        return rng.normal(0.0, 0.01, size=n).astype(np.float32)

    w = {
        f"{X.WORD_EMBEDDINGS}.weight": matrix(config["vocab_size"], h),
        f"{X.POSITION_EMBEDDINGS}.weight": matrix(config["max_position_embeddings"], h),
        f"{X.TOKEN_TYPE_EMBEDDINGS}.weight": matrix(config["type_vocab_size"], h),
        f"{X.EMBEDDINGS_NORM}.weight": gain(h),
        f"{X.EMBEDDINGS_NORM}.bias": bias(h),
        f"{X.HEAD_DENSE}.weight": matrix(h, h),
        f"{X.HEAD_DENSE}.bias": bias(h),
        f"{X.HEAD_OUT}.weight": rng.normal(0.0, 0.2, size=(2, h)).astype(np.float32),
        f"{X.HEAD_OUT}.bias": bias(2),
    }
    w[f"{X.WORD_EMBEDDINGS}.weight"][config["pad_token_id"]] = 0.0
    for i in range(config["num_hidden_layers"]):
        p = X.layer_prefix(i)
        for name in (X.QUERY, X.KEY, X.VALUE, X.ATTENTION_OUT):
            w[p + name + ".weight"], w[p + name + ".bias"] = matrix(h, h), bias(h)
        for norm in X.LAYER_NORMS:
            w[p + norm + ".weight"], w[p + norm + ".bias"] = gain(h), bias(h)
        w[p + X.FFN_UP + ".weight"], w[p + X.FFN_UP + ".bias"] = matrix(ffn, h), bias(ffn)
        w[p + X.FFN_DOWN + ".weight"], w[p + X.FFN_DOWN + ".bias"] = matrix(h, ffn), bias(h)
    return w


def write_tokenizer(out: Path, pieces: int) -> Path:
    from .spm_train import train_sentencepiece

    texts = [row["text"] for row in read_jsonl(seed_corpus_path())]
    trained = min(pieces, TRAINED_PIECES)
    return train_sentencepiece(
        texts, trained, out / "sentencepiece.bpe.model", pad_to=pieces if pieces > trained else None
    )


def synth(shape: str, out, seed: int = 0, force: bool = False) -> Path:
    """Write a CREST-shaped checkpoint of `shape` to `out` and return the directory."""
    if shape not in SHAPES:
        raise CrestEdgeError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")
    out = check_synth_output(out, force)
    out.mkdir(parents=True, exist_ok=True)
    s = SHAPES[shape]
    write_tokenizer(out, s["pieces"])
    config = xlmr_config(s["layers"], s["hidden"], s["heads"], s["ffn"], s["pieces"] + 2)
    config[SYNTH_MARK] = {"shape": shape, "seed": seed}  # what lets synth --force replace it, and nothing else
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    write_safetensors(out / "model.safetensors", random_weights(config, seed))
    write_tokenizer_config(out)
    return out


def write_tokenizer_config(out: Path) -> None:
    """The small files transformers expects beside sentencepiece.bpe.model."""
    config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": 512,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

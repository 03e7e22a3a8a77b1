"""Seeded, deterministic CREST-shaped checkpoints in Hugging Face layout, for tests and benchmarks.

The weights are random at the scales a trained XLM-R has (normal(0, 0.02) matrices, unit
LayerNorm gains), so engines do realistic work; the verdicts mean nothing. With `outliers=True` the
activation outliers of pretrained encoders are planted in (see devtools.outliers); `tiny` then is the
trained demo classifier with outliers, fine-tuned on the seed set, whose verdicts do mean something.
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


def synth(shape: str, out, seed: int = 0, force: bool = False, outliers: bool = False) -> Path:
    """Write a CREST-shaped checkpoint of `shape` to `out` and return the directory; with `outliers`,
    the outlier stress checkpoint of that shape (devtools.outliers)."""
    if shape not in SHAPES:
        raise CrestEdgeError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")
    out = check_synth_output(out, force)
    out.mkdir(parents=True, exist_ok=True)
    mark = {"shape": shape, "seed": seed}  # what lets synth --force replace it, and nothing else
    if outliers and shape == "tiny":
        config, weights, mark["outliers"] = _trained_with_outliers(out, seed)
    else:
        s = SHAPES[shape]
        write_tokenizer(out, s["pieces"])
        config = xlmr_config(s["layers"], s["hidden"], s["heads"], s["ffn"], s["pieces"] + 2)
        weights = random_weights(config, seed)
        if outliers:
            from ..tokenizer import SPM_FILE
            from .outliers import plant, sink_ids

            plant(weights, config, sink_ids((out / SPM_FILE).read_bytes()))
            mark["outliers"] = {"planted_in": "random weights"}
    config[SYNTH_MARK] = mark
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    write_safetensors(out / "model.safetensors", weights)
    write_tokenizer_config(out)
    return out


def _trained_with_outliers(out: Path, seed: int):
    """The demo classifier with outliers planted and its head re-fitted: (config, weights, what was done)."""
    import shutil

    from ..demo import demo_path
    from ..formats.checkpoint import open_checkpoint
    from ..tokenizer import SPM_FILE, XLMRTokenizer
    from .outliers import fit_head, plant, sink_ids

    demo = open_checkpoint(demo_path())
    shutil.copyfile(demo.path / SPM_FILE, out / SPM_FILE)
    config = {k: v for k, v in demo.config.items() if k != SYNTH_MARK}
    weights = {name: array.copy() for name, array in demo.validated_tensors().items()}
    plant(weights, config, sink_ids((out / SPM_FILE).read_bytes()))
    scores = fit_head(weights, config, XLMRTokenizer.from_file(out / SPM_FILE), seed=seed)
    return config, weights, {"planted_in": "the demo checkpoint, head re-fitted on the seed set", **scores}


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

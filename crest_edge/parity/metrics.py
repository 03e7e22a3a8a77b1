"""Parity metrics between reference and candidate logits: pure numpy, no engine.

Labels are decided by crest_edge.verdict's one rule: p(unsafe) >= threshold is unsafe.
"Near the threshold" means the reference p(unsafe) lies within NEAR_BAND of the threshold
(0.4-0.6 at the default 0.5): the texts where a small numerical drift can flip a verdict.
"""

from __future__ import annotations

import numpy as np

from crest_edge.verdict import decide_labels, softmax

NEAR_BAND = 0.1


def summarize(ref_logits, cand_logits, positive: int, threshold: float = 0.5) -> dict:
    """Agreement, |Δ p(positive)| and logit error for one set of texts (at least one)."""
    ref = np.asarray(ref_logits, dtype=np.float64)
    cand = np.asarray(cand_logits, dtype=np.float64)
    if ref.shape != cand.shape or ref.ndim != 2 or len(ref) == 0:
        raise ValueError(f"logit shapes differ or are empty: {ref.shape} vs {cand.shape}")
    ref_p, cand_p = softmax(ref)[:, positive], softmax(cand)[:, positive]
    agree = decide_labels(softmax(ref), positive, threshold) == decide_labels(softmax(cand), positive, threshold)
    dp = np.abs(ref_p - cand_p)
    dlogit = np.abs(ref - cand)
    near = np.abs(ref_p - threshold) <= NEAR_BAND
    return {
        "n": int(len(ref)),
        "agree": int(agree.sum()),
        "agreement": float(agree.mean()),
        "flips": int((~agree).sum()),
        "max_dp": float(dp.max()),
        "mean_dp": float(dp.mean()),
        "max_dlogit": float(dlogit.max()),
        "rmse_logit": float(np.sqrt(np.mean(dlogit**2))),
        "near_n": int(near.sum()),
        "near_agreement": float(agree[near].mean()) if near.any() else None,
    }


def by_group(ref_logits, cand_logits, keys, positive: int, threshold: float = 0.5) -> dict[str, dict]:
    """`summarize` per distinct key (e.g. language or script), keys sorted."""
    keys = np.asarray(keys, dtype=object)
    ref, cand = np.asarray(ref_logits), np.asarray(cand_logits)
    return {
        str(k): summarize(ref[keys == k], cand[keys == k], positive, threshold)
        for k in sorted(set(keys.tolist()), key=str)
    }


def flipped(
    ref_logits, cand_logits, rows: list[dict], labels: list[str], positive: int, threshold: float = 0.5
) -> list[dict]:
    """The texts whose label differs, largest |Δp| first."""
    ref_probs, cand_probs = softmax(np.asarray(ref_logits, np.float64)), softmax(np.asarray(cand_logits, np.float64))
    ref_l = decide_labels(ref_probs, positive, threshold)
    cand_l = decide_labels(cand_probs, positive, threshold)
    out = [
        {
            "text": rows[i]["text"],
            "lang": rows[i]["lang"],
            "script": rows[i]["script"],
            "ref_p": float(ref_probs[i, positive]),
            "cand_p": float(cand_probs[i, positive]),
            "ref_label": labels[ref_l[i]],
            "cand_label": labels[cand_l[i]],
        }
        for i in np.flatnonzero(ref_l != cand_l)
    ]
    return sorted(out, key=lambda f: -abs(f["ref_p"] - f["cand_p"]))


def gold_accuracy(logits, gold: list[str], labels: list[str], positive: int, threshold: float = 0.5):
    """Share of texts with a known gold label (one of `labels`) that the model gets right; None if none known."""
    known = [i for i, g in enumerate(gold) if g in labels]
    if not known:
        return None
    pred = decide_labels(softmax(np.asarray(logits, np.float64)[known]), positive, threshold)
    return float(np.mean([labels[p] == gold[i] for p, i in zip(pred, known)]))

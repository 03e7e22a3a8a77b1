"""Is a trimmed model faithful where it is used? Trimmed vs untrimmed fp32, per served language.

The texts are the parity corpus lines of the served languages (the corpus never chooses kept
pieces). A text whose pieces were all kept must tokenize to the same pieces, renumbered, and score
the same within float noise; the others tokenize differently (counted). The gates (agreement >=
99.9%, max |Δp| <= 0.01) hold on the lines the trimmed model decides itself: those at most
`outside_threshold` outside its vocabulary. Above it the coverage guard decides (see `coverage`);
such lines (e.g. the corpus's homoglyph attacks: Cyrillic letters inside English) are counted as
`guarded`, and the figures over all lines are reported beside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CrestEdgeError
from ..parity import metrics
from ..parity.run import load_corpus
from ..verdict import unsafe_index
from .coverage import DEFAULT_THRESHOLD
from .scripts import LANGUAGE_SCRIPTS, SCRIPT_TAGS

GATES = {"agreement": 0.999, "max_dp": 0.01, "unchanged_max_dlogit": 1e-5}


def is_served(lang: str, languages, scripts) -> bool:
    """Whether a corpus line tagged `lang` ("hi", "hi-en", "hi-Latn") is in the served languages: its
    language and every further tag (a language, or a script subtag) must be served."""
    first, *rest = lang.split("-")
    if first not in languages:
        return False
    for tag in rest:
        if tag in SCRIPT_TAGS:
            if SCRIPT_TAGS[tag] not in scripts:
                return False
        elif tag not in languages or tag not in LANGUAGE_SCRIPTS:
            return False
    return True


def remapped(old_ids: list[int], new_id_of: dict[int, int]) -> list[int] | None:
    """`old_ids` in the trimmed numbering, or None if one of them was cut."""
    out = [new_id_of.get(i) for i in old_ids]
    return None if None in out else out


def check_trim(
    original, trimmed, corpus=None, *, threads: int | None = None, outside_threshold: float = DEFAULT_THRESHOLD
) -> dict:
    """Run both checkpoints (fp32, transformers) on the served-language lines of `corpus` (default: the
    parity corpus) and report per language and overall, with the gates (see module docstring)."""
    from ..guard import Guard

    with Guard.load(trimmed, engine="torch", device="cpu", threads=threads, on_outside="report") as small:
        record = small.artifact.trim
        if record is None:
            raise CrestEdgeError(f"{trimmed}: not a trimmed checkpoint (no trim record)")
        rows = [
            r for r in load_corpus(corpus)["rows"] if is_served(str(r["lang"]), record["languages"], record["scripts"])
        ]
        if not rows:
            raise CrestEdgeError(f"no corpus lines of the served languages {record['languages']}")
        texts = [r["text"] for r in rows]
        new_logits = small.logits(texts)
        new_ids = [small.token_ids(t) for t in texts]
        outside = [small.coverage.share(t) for t in texts]
    with Guard.load(original, engine="torch", device="cpu", threads=threads) as full:
        labels = full.labels
        old_logits = full.logits(texts)
        old_ids = [full.token_ids(t) for t in texts]
    rows_map = _row_map(original, trimmed)
    changed = np.array([remapped(o, rows_map) != n for o, n in zip(old_ids, new_ids)])
    decided = np.array(outside) <= outside_threshold
    positive = unsafe_index(labels)
    langs = np.array([r["lang"] for r in rows], dtype=object)

    def figures(mine) -> dict:
        out = {"n": int(mine.sum()), "changed_tokenization": int(changed[mine].sum())}
        out["guarded"] = int((mine & ~decided).sum())
        own = mine & decided
        out.update(_short(metrics.summarize(old_logits[own], new_logits[own], positive)) if own.any() else {})
        whole = metrics.summarize(old_logits[mine], new_logits[mine], positive)
        out["all_lines"] = _short(whole)
        same = mine & ~changed
        out["unchanged_max_dlogit"] = float(np.abs(old_logits[same] - new_logits[same]).max()) if same.any() else 0.0
        return out

    by_lang = {lang: figures(langs == lang) for lang in sorted(set(langs.tolist()))}
    overall = figures(np.ones(len(rows), dtype=bool))
    passed = (
        overall.get("agreement", 0.0) >= GATES["agreement"]
        and overall.get("max_dp", 1.0) <= GATES["max_dp"]
        and overall["unchanged_max_dlogit"] <= GATES["unchanged_max_dlogit"]
    )
    return {
        "languages": record["languages"],
        "outside_threshold": outside_threshold,
        "overall": overall,
        "by_lang": by_lang,
        "gates": GATES,
        "passed": bool(passed),
    }


def _short(summary: dict) -> dict:
    return {k: summary[k] for k in ("agreement", "flips", "max_dp", "max_dlogit")}


def _row_map(original, trimmed) -> dict[int, int]:
    """Untrimmed id -> trimmed id, from the two sentencepiece models (pieces are unique within one)."""
    from ..tokenizer import FAIRSEQ_OFFSET, SPECIAL_TOKENS, SPM_FILE
    from ..tokenizer.proto import SentencePieceModel

    def ids(path):
        model = SentencePieceModel((path / SPM_FILE).read_bytes())
        return {p: i + FAIRSEQ_OFFSET for i, p in enumerate(model.pieces) if i >= 3}, model.piece_count

    old, old_n = ids(Path(original))
    new, new_n = ids(Path(trimmed))
    mapping = {i: i for i in range(len(SPECIAL_TOKENS))}
    mapping.update({old[p]: new[p] for p in new})
    mapping[old_n + FAIRSEQ_OFFSET] = new_n + FAIRSEQ_OFFSET  # <mask>
    return mapping

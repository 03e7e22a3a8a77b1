"""The guard against what trimming cut: the share of an input outside the kept vocabulary.

A trimmed model knows only its served scripts well; text in any other script tokenizes to `<unk>` or
to fragments the model never learned, and its score means little. Left alone, switching script would
be a bypass: write the unsafe request in a script the app does not serve and the classifier shrugs.
So every verdict from a trimmed model carries `outside`: the share of the input's characters (after
the model's normalization, whitespace not counted) that are of a script not served, or that no kept
piece spells on its own (what becomes `<unk>`). It is taken over the worst stretch of WINDOW
characters (the whole text when shorter), so padding an unserved-script request with served text
does not dilute it away. Above `outside_threshold` the `on_outside` policy acts:

- "block" (the default, fail closed): the verdict becomes the unsafe label with score 1.0;
- "report": the verdict is the model's, with `outside` for the app to act on;
- "raise": OutsideVocabularyError.

The default threshold 0.1 fails closed early: one unserved character in ten is enough, so a short
text with a name in another script is flagged too (an app that expects those raises the threshold
or takes "report"). Standard library only.
"""

from __future__ import annotations

import collections
import dataclasses

from ..errors import OutsideVocabularyError
from ..tokenizer.proto import SentencePieceModel
from ..verdict import Verdict, unsafe_index
from .select import META, Ranges

ON_OUTSIDE = ("block", "report", "raise")
DEFAULT_THRESHOLD = 0.1
WINDOW = 32  # characters: about a sentence, longer than most names


def check_policy(on_outside: str, outside_threshold) -> None:
    if on_outside not in ON_OUTSIDE:
        raise ValueError(f"on_outside must be one of {', '.join(ON_OUTSIDE)}, got {on_outside!r}")
    if isinstance(outside_threshold, bool) or not isinstance(outside_threshold, (int, float)):
        raise ValueError(f"outside_threshold must be a number between 0 and 1, got {outside_threshold!r}")
    if not 0.0 <= outside_threshold <= 1.0:
        raise ValueError(f"outside_threshold must be between 0 and 1, got {outside_threshold!r}")


class Coverage:
    """Measures `outside` for one trimmed model and applies the policy to its verdicts."""

    def __init__(self, record: dict, tokenizer, on_outside: str = "block", threshold: float = DEFAULT_THRESHOLD):
        check_policy(on_outside, threshold)
        self.record = record
        self.on_outside = on_outside
        self.threshold = float(threshold)
        self._served = Ranges(record["served_ranges"])
        self._normalize = getattr(tokenizer, "normalize", lambda text: text)
        model = SentencePieceModel(tokenizer.model_bytes)
        self._spelled = {p.replace(META, "") for p in model.pieces if len(p.replace(META, "")) == 1}

    def share(self, text: str) -> float:
        """The largest share of outside characters in any WINDOW consecutive characters of `text`
        (over all of it when shorter; 0.0 for no characters)."""
        running = RunningShare()
        running.add(self.flags(text))
        return running.share

    def flags(self, text: str) -> list[bool]:
        """Per character of `text` after normalization, whitespace left out: whether it is outside.
        Normalization works per grapheme cluster, so the flags of text cut at cluster boundaries are
        the flags of its parts (a stream feeds them to a RunningShare part by part)."""
        served, spelled = self._served, self._spelled
        return [c not in served or c not in spelled for c in self._normalize(text) if not c.isspace() and c != META]

    def check(self, texts) -> list[float]:
        """`outside` per text; OutsideVocabularyError first if the policy is "raise" and one exceeds it."""
        shares = [self.share(t) for t in texts]
        for i, share in enumerate(shares):
            self.refuse(share, f"text {i}")
        return shares

    def refuse(self, share: float, what: str) -> None:
        """OutsideVocabularyError if the policy is "raise" and `share` exceeds the threshold."""
        if self.on_outside == "raise" and share > self.threshold:
            raise OutsideVocabularyError(
                f"{what}: {share:.0%} of it is outside what this trimmed model serves "
                f"(languages {' '.join(self.record['languages']) or '-'}, scripts "
                f"{' '.join(self.record['scripts'])}; threshold {self.threshold:g})"
            )

    def apply(self, verdict: Verdict, share: float, labels: list[str]) -> Verdict:
        verdict = dataclasses.replace(verdict, outside=share)
        if self.on_outside != "block" or share <= self.threshold:
            return verdict
        positive = unsafe_index(labels)
        probs = {name: float(i == positive) for i, name in enumerate(labels)}
        return dataclasses.replace(verdict, label=labels[positive], score=1.0, probs=probs)


class RunningShare:
    """`Coverage.share` over characters that arrive part by part: the worst WINDOW-character stretch
    so far (the share of all of them while there are no more than WINDOW)."""

    def __init__(self):
        self._recent: collections.deque[bool] = collections.deque(maxlen=WINDOW)
        self._in_window = self._total = self._outside = self._best = 0

    def add(self, flags) -> None:
        recent = self._recent
        for flag in flags:
            if len(recent) == WINDOW:
                self._in_window -= recent[0]
            recent.append(flag)
            self._in_window += flag
            self._total += 1
            self._outside += flag
            if self._total >= WINDOW and self._in_window > self._best:
                self._best = self._in_window

    @property
    def share(self) -> float:
        if self._total <= WINDOW:
            return self._outside / self._total if self._total else 0.0
        return self._best / WINDOW

import numpy as np
import pytest

from crest_edge.verdict import decide, softmax
from crest_edge.windows import POLICIES, count, fit

LABELS = ["safe", "unsafe"]


def test_short_text_is_one_sequence_with_specials():
    assert fit([5, 6, 7], 512) == [[0, 5, 6, 7, 2]]


def test_windows_cover_the_whole_text_and_respect_the_limit():
    pieces = list(range(10, 1310))
    windows = fit(pieces, 512)
    assert len(windows) > 1
    assert all(len(w) <= 512 and w[0] == 0 and w[-1] == 2 for w in windows)
    covered = {tok for w in windows for tok in w[1:-1]}
    assert covered == set(pieces)
    # consecutive windows overlap, so a phrase cut at a border is still seen whole
    assert set(windows[0][1:-1]) & set(windows[1][1:-1])
    assert windows[-1][-2] == pieces[-1]


def test_head_and_head_tail_truncate_to_one_window():
    pieces = list(range(10, 1310))
    (head,) = fit(pieces, 512, "head")
    assert head[1:-1] == pieces[:510]
    (both,) = fit(pieces, 512, "head_tail")
    assert len(both) == 512 and both[1] == pieces[0] and both[-2] == pieces[-1]


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="unknown long-text policy"):
        fit(list(range(600)), 512, "middle")
    with pytest.raises(ValueError, match="unknown long-text policy"):
        count(600, 512, "middle")


@pytest.mark.parametrize("policy", POLICIES)
def test_count_is_the_number_of_sequences_fit_makes(policy):
    for pieces in [*range(0, 3000, 7), 510, 511]:
        assert count(pieces, 512, policy) == len(fit([5] * pieces, 512, policy)), pieces
    assert count(2000, 128, "windows", stride=10) == len(fit([5] * 2000, 128, "windows", stride=10))


def test_softmax_is_stable_for_large_logits():
    probs = softmax(np.array([[1000.0, 1001.0]]))
    assert np.allclose(probs, [[0.2689414, 0.7310586]])


def test_most_unsafe_window_decides():
    logits = np.array([[3.0, -3.0], [-2.0, 2.0], [0.0, 0.0]])
    verdict = decide(logits, LABELS, 0.5, tokens=1500)
    assert verdict.label == "unsafe" and verdict.windows == 3 and verdict.tokens == 1500
    assert verdict.score == pytest.approx(softmax(logits[1:2])[0, 1])
    assert verdict.probs["unsafe"] == pytest.approx(verdict.score)


def test_threshold_decides_the_label():
    logits = np.array([[0.0, 0.5]])  # p(unsafe) ~ 0.62
    assert decide(logits, LABELS, 0.5, 5).label == "unsafe"
    assert decide(logits, LABELS, 0.7, 5).label == "safe"

"""A text's score must not depend on its batch neighbours: `classify_batch(texts)` against
`classify(text)` one at a time, for every format and precision the converters write (issue #14, item 5).

Dynamic per-tensor activation scales computed over a whole padded batch break this (ONNX's
quantize_dynamic moved p(unsafe) by 0.036 on the demo); calibrated static scales, per-row (CT2) and
per-block (MatMulNBits, q8_0) activation scales do not.
"""

import pytest
from quant_helpers import TARGETS, batch_vs_single, target_id

from crest_edge.parity import gates

# fp32 artifacts only reorder float sums between batch shapes; anything quantized may add rounding
# that depends on the neighbours only through float summation order, never through a shared scale.
LIMITS = {"fp32": 1e-5}
DEFAULT_LIMIT = 1e-4
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("checkpoint", ["demo", "stress"])
@pytest.mark.parametrize("target", TARGETS, ids=target_id)
def test_score_does_not_depend_on_batch_neighbours(checkpoint, target, request, mixed_length_texts):
    fmt, quant = target
    artifacts = request.getfixturevalue(f"{checkpoint}_artifacts")
    limit = LIMITS.get(gates.precision_class(quant), DEFAULT_LIMIT)
    moved = batch_vs_single(artifacts(fmt, quant), mixed_length_texts)
    assert moved <= limit, f"{checkpoint} {fmt} {quant}: p(unsafe) moved by {moved:.3g} between batch and single calls"


def test_reference_checkpoint_is_batch_invariant(demo_checkpoint, mixed_length_texts):
    moved = batch_vs_single(demo_checkpoint, mixed_length_texts)
    assert moved <= LIMITS["fp32"], moved

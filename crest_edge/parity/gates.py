"""Precision classes and the parity gates each must pass against the fp32 reference.

| class    | quantizations                                        | agreement | other gate            |
|----------|------------------------------------------------------|-----------|-----------------------|
| fp32     | float32 f32 fp32                                     | 100%      | max |Δ logit| <= 1e-3 |
| 16-bit   | float16 bfloat16 f16 bf16 fp16, int16                | >= 99.9%  | max |Δp| <= 0.01      |
| 8-bit    | int8 int8_float32 int8_float16 int8_bfloat16 q8_0    | >= 99.5%  | max |Δp| <= 0.05      |
| 5/6-bit  | q6_k q5_k_m q5_k_s q5_0 q5_1                         | >= 99%    | max |Δp| <= 0.10      |
| 4-bit    | q4_k_m q4_k_s q4_0 q4_1 int4                         | >= 98%    | max |Δp| <= 0.15      |

int16 is 16-bit: CTranslate2's int16 keeps 15 bits per weight with a per-row scale, finer than
fp16's 11-bit mantissa. q6_k and q5_k_m keep 5-6 bits per weight, so they get a class between
8-bit and 4-bit. The class is the coarser of the artifact's manifest quantization and the
precision the engine reports it really ran at (a fallback can only lower fidelity).
"""
from __future__ import annotations

import dataclasses

from crest_edge.errors import CrestEdgeError

CLASSES = ("fp32", "16-bit", "8-bit", "5/6-bit", "4-bit")  # finest first
_QUANT_CLASS = {
    **dict.fromkeys(("float32", "f32", "fp32"), "fp32"),
    **dict.fromkeys(("float16", "bfloat16", "f16", "bf16", "fp16", "int16"), "16-bit"),
    **dict.fromkeys(("int8", "int8_float32", "int8_float16", "int8_bfloat16", "q8_0"), "8-bit"),
    **dict.fromkeys(("q6_k", "q5_k_m", "q5_k_s", "q5_0", "q5_1"), "5/6-bit"),
    **dict.fromkeys(("q4_k_m", "q4_k_s", "q4_0", "q4_1", "int4"), "4-bit"),
}
# class -> {metric: limit}; "agreement" is a minimum, the others are maxima
GATES = {
    "fp32": {"agreement": 1.0, "max_dlogit": 1e-3},
    "16-bit": {"agreement": 0.999, "max_dp": 0.01},
    "8-bit": {"agreement": 0.995, "max_dp": 0.05},
    "5/6-bit": {"agreement": 0.99, "max_dp": 0.10},
    "4-bit": {"agreement": 0.98, "max_dp": 0.15},
}
_NAMES = {"agreement": "label agreement", "max_dp": "max |Δp|", "max_dlogit": "max |Δ logit|"}


def precision_class(quantization: str) -> str:
    try:
        return _QUANT_CLASS[quantization.lower()]
    except KeyError:
        raise CrestEdgeError(f"no precision class for quantization {quantization!r}; "
                             f"known: {', '.join(sorted(_QUANT_CLASS))}") from None


def effective_class(quantization: str, engine_precision: str | None = None) -> str:
    """The coarser class of the stored quantization and the one the engine reports running."""
    found = [precision_class(quantization)]
    if engine_precision and engine_precision.lower() in _QUANT_CLASS:
        found.append(precision_class(engine_precision))
    return max(found, key=CLASSES.index)


@dataclasses.dataclass(frozen=True)
class GateResult:
    metric: str
    value: float
    limit: float
    passed: bool

    def describe(self) -> str:
        if self.metric == "agreement":
            return f"{_NAMES[self.metric]} {self.value:.4%} (needs >= {self.limit:.2%})"
        return f"{_NAMES[self.metric]} {self.value:.3g} (needs <= {self.limit:.3g})"


def gate_limits(klass: str, overrides: dict[str, float | None] | None = None) -> dict[str, float]:
    """The class's gates with any non-None override replacing (or adding) a limit."""
    limits = dict(GATES[klass])
    for metric, value in (overrides or {}).items():
        if value is not None:
            if metric not in _NAMES:
                raise CrestEdgeError(f"unknown gate {metric!r}; choose from {', '.join(_NAMES)}")
            limits[metric] = float(value)
    return limits


def check(summary: dict, limits: dict[str, float]) -> list[GateResult]:
    results = []
    for metric, limit in limits.items():
        value = summary[metric]
        ok = value >= limit if metric == "agreement" else value <= limit
        results.append(GateResult(metric, value, limit, bool(ok)))
    return results

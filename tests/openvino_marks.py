"""The OpenVINO precision that does not pass its gate, as a mark the gate tests share."""

import importlib.util

import pytest


def _bf16_here() -> bool:
    if importlib.util.find_spec("openvino") is None:
        return False
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


# OpenVINO's bf16 mode runs every float op in bfloat16 (LayerNorm, softmax and GELU too): on the demo
# max |dp| 0.0125 (fp32-stored weights; 0.021 fp16-stored) against the 16-bit gate's 0.01. On a CPU
# without bf16 the engine runs float32 and passes, so the mark applies only where bf16 runs.
OPENVINO_BF16_FAILS = pytest.mark.xfail(
    condition=_bf16_here(),
    strict=True,
    reason="openvino bf16: OpenVINO computes LayerNorm/softmax in bf16 too; max |dp| 0.0125 on the demo > 0.01",
)


def marks_for(fmt: str, quant: str):
    return OPENVINO_BF16_FAILS if (fmt, quant) == ("openvino", "bf16") else ()

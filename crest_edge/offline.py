"""Nothing phones home: the engines' telemetry is switched off before they are first imported.

ONNX Runtime 1.32 keeps a device id and an events database under ~/.cache/Microsoft/DeveloperTools
and looks up its events host about 10 s after import, unless ORT_DISABLE_TELEMETRY is set before it
loads (and `disable_telemetry_events()` stops the events of a session). Ray reports cluster usage
statistics unless RAY_USAGE_STATS_ENABLED=0 is set before its first `ray.init`. transformers and
huggingface_hub stay offline and silent with HF_HUB_OFFLINE and HF_HUB_DISABLE_TELEMETRY. A value the
user set explicitly is kept. `crest_edge.extras.require`, the one door every engine is imported
through, calls these.
"""

from __future__ import annotations

import os

_ENVIRONMENT = {
    "onnxruntime": {"ORT_DISABLE_TELEMETRY": "1"},
    "transformers": {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TRANSFORMERS_OFFLINE": "1"},
    "huggingface_hub": {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"},
    "tokenizers": {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"},
    "ray": {"RAY_USAGE_STATS_ENABLED": "0"},
}


def before_import(module: str) -> None:
    for key, value in _ENVIRONMENT.get(module.split(".")[0], {}).items():
        os.environ.setdefault(key, value)


def after_import(module: str, imported) -> None:
    if module == "onnxruntime":
        imported.disable_telemetry_events()

"""Choosing the engine and device for an artifact, once, and saying what was chosen.

Only `auto` may fall back. An explicit engine or device that is not available is an error
listing what is.
"""

from __future__ import annotations

from .errors import DeviceError
from .registry import DEVICE_ALIASES, DEVICE_ORDER, DEVICES, ENGINE_FOR_FORMAT, ENGINES


def resolve_engine(artifact_format: str, engine: str) -> str:
    natural = ENGINE_FOR_FORMAT[artifact_format]
    if engine in ("auto", natural):
        return natural
    if engine not in ENGINES:
        raise DeviceError(f"unknown engine {engine!r}; choose from auto, {', '.join(ENGINES)}")
    raise DeviceError(f"engine {engine!r} cannot run a {artifact_format} artifact; it needs engine {natural!r}")


def resolve_device(engine: str, device: str, available: list[str]) -> str:
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}; choose from {', '.join(DEVICES)}")
    if device == "auto":
        return min(available, key=lambda d: DEVICE_ORDER.index(d) if d in DEVICE_ORDER else len(DEVICE_ORDER))
    for name in DEVICE_ALIASES.get(device, (device,)):
        if name in available:
            return name
    raise DeviceError(f"device {device!r} is not available to {engine} here; available: {', '.join(available)}")

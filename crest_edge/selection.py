"""Choosing the engine and device for an artifact, once, and saying what was chosen.

Only `auto` may fall back. An explicit engine or device that is not available is an error
listing what is.
"""

from __future__ import annotations

import os

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


def max_threads() -> int:
    """The most engine threads crest-edge accepts: 4 per logical CPU. More only oversubscribe the cores
    (and some engines crash or hang on tens of thousands)."""
    return 4 * (os.cpu_count() or 1)


MAX_BATCH = 4096  # sequences per engine call; past this, memory grows with no gain in speed


def check_threads(threads):
    """`threads` as an int in 1..max_threads(), or None (the engine's own default)."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= max_threads():
        raise ValueError(f"threads must be a whole number from 1 to {max_threads()} (4 per CPU), got {threads!r}")
    return threads


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be a whole number from 1 to {MAX_BATCH}, got {batch_size!r}")
    return batch_size

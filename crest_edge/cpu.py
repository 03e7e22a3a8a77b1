"""What SIMD the CPU offers, so a user can see what each engine can use."""

from __future__ import annotations

import functools
import platform
import subprocess

# The flags that matter for int8/fp16 inference, in /proc/cpuinfo spelling.
_X86_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)


@functools.lru_cache(maxsize=1)
def cpu_flags() -> tuple[str, ...]:
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        found = ["neon"]
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as handle:
                text = handle.read().split()
            found += [f for f in ("asimddp", "i8mm", "sve", "sve2", "bf16", "fphp") if f in text]
        except OSError:
            if platform.system() == "Darwin":
                found += _darwin_arm_features()
        return tuple(found)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            line = next((ln for ln in handle if ln.startswith("flags")), "")
        present = set(line.split(":", 1)[-1].split())
    except OSError:
        present = set()
    return tuple(f for f in _X86_FLAGS if f in present)


def _darwin_arm_features() -> list[str]:
    names = {
        "hw.optional.arm.FEAT_DotProd": "asimddp",
        "hw.optional.arm.FEAT_I8MM": "i8mm",
        "hw.optional.arm.FEAT_BF16": "bf16",
    }
    found = []
    for key, flag in names.items():
        try:
            if subprocess.run(["sysctl", "-n", key], capture_output=True, text=True, timeout=2).stdout.strip() == "1":
                found.append(flag)
        except (OSError, subprocess.SubprocessError):
            pass
    return found


def cpu_isa() -> str:
    """The best instruction set level, as engines name it (CTranslate2's CT2_FORCE_CPU_ISA values)."""
    flags = set(cpu_flags())
    if "neon" in flags:
        return "NEON"
    if "avx512f" in flags:
        return "AVX512+VNNI" if "avx512_vnni" in flags else "AVX512"
    if "avx2" in flags:
        return "AVX2"
    if "avx" in flags:
        return "AVX"
    return "GENERIC"


# Linux x86-64: a process must ask for AMX's tile data before it may use AMX (arch_prctl)
_SYS_ARCH_PRCTL = 158
_ARCH_REQ_XCOMP_PERM = 0x1023
_XFEATURE_XTILEDATA = 18


@functools.lru_cache(maxsize=1)
def amx_state() -> str | None:
    """Whether this process may use AMX: "usable", "denied" (the CPU has it, Linux refused the request,
    e.g. under bench/no_amx.py), or None (no AMX). OneDNN (OpenVINO, torch) and onnxruntime make the same
    request and fall back to AVX512-VNNI when it fails, so a figure's ISA depends on it."""
    if "amx_tile" not in cpu_flags() or platform.system() != "Linux" or platform.machine() != "x86_64":
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        granted = libc.syscall(_SYS_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA) == 0
    except (OSError, AttributeError):
        return None
    return "usable" if granted else "denied"


AMX_NOTES = {"usable": "AMX usable", "denied": "AMX present but denied to this process (bench/no_amx.py)"}


def amx_note(state: str | None) -> str:
    """How doctor and the bench report say an amx_state() ("" without AMX)."""
    return AMX_NOTES.get(state, "")


CT2_ISAS = ("GENERIC", "AVX", "AVX2", "AVX512", "NEON")


def force_cpu_isa(engine: str, isa: str) -> None:
    """Make `engine` use at most `isa`. Only CTranslate2 dispatches SIMD at run time and lets us choose;
    it reads the choice once, when the library first runs, so it must come before any CT2 model loads."""
    import os
    import sys

    from .errors import DeviceError

    isa = isa.upper()
    if engine != "ct2":
        raise DeviceError(f"{engine} cannot force a CPU ISA (its SIMD level is fixed by its build); only ct2 can")
    if isa not in CT2_ISAS:
        raise DeviceError(f"unknown CPU ISA {isa!r} for ctranslate2; choose from {', '.join(CT2_ISAS)}")
    current = os.environ.get("CT2_FORCE_CPU_ISA")
    if "ctranslate2" in sys.modules and current != isa:
        raise DeviceError(
            f"ctranslate2 is already loaded in this process with ISA {current or 'auto'}; "
            f"set CT2_FORCE_CPU_ISA={isa} before the first CT2 model loads (or start a new process)"
        )
    os.environ["CT2_FORCE_CPU_ISA"] = isa

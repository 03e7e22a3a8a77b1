"""Run a command as on a CPU without AMX: `python bench/no_amx.py crest-edge bench ...`.

On an Intel CPU with AMX, onnxruntime and oneDNN (OpenVINO, torch) use AMX for int8 and bf16 once Linux
grants the process AMX's tile data. This builds bench/no_amx.c (with the system's C compiler, cached in
~/.cache/crest-edge/no_amx) and runs the command with it preloaded, so that request fails and every engine
falls back to AVX512-VNNI, as on a CPU without AMX (most laptops, AMD Zen 4). The bench report's machine
line then says "AMX present but denied". Linux x86-64 only.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

SOURCE = Path(__file__).with_name("no_amx.c")
CHECK = "from crest_edge.cpu import amx_state; print(amx_state())"


def fail(message: str) -> NoReturn:
    print(f"no_amx: {message}", file=sys.stderr)
    raise SystemExit(2)


def build() -> Path:
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        fail("no C compiler (cc) to build bench/no_amx.c; install gcc or set CC")
    code = SOURCE.read_bytes()
    out = Path.home() / ".cache" / "crest-edge" / "no_amx" / f"no_amx-{hashlib.sha256(code).hexdigest()[:12]}.so"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [compiler, "-O2", "-shared", "-fPIC", "-o", str(out), str(SOURCE), "-ldl"], text=True, capture_output=True
        )
        if done.returncode:
            last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            fail(f"building {SOURCE.name} failed: {last}")
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        fail(f"AMX can only be denied on Linux x86-64, not {platform.system()} {platform.machine()}")
    env = {**os.environ, "LD_PRELOAD": " ".join(filter(None, [str(build()), os.environ.get("LD_PRELOAD")]))}
    state = subprocess.run([sys.executable, "-c", CHECK], env=env, text=True, capture_output=True).stdout.strip()
    if state != "denied":
        fail(f"AMX is not denied under the shim (this CPU: {state or 'no AMX'}); nothing to emulate here")
    try:
        return subprocess.run(argv, env=env).returncode
    except FileNotFoundError:
        fail(f"{argv[0]}: no such command")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

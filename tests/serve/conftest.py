"""Fixtures for the serve tests: a Guard on the demo model, and the crest-edge command.

The demo as CTranslate2 float32 serves the fast tests: its scores do not move with batch
neighbours (~3e-8 in p(unsafe)), so served verdicts are compared with in-process ones to 1e-6;
ONNX Runtime's dynamic int8 moves them by up to 0.016 (60 texts alone vs in a 120-text batch).
The test modules import the `serve` extra's packages only inside tests, so that without the
extra every test here is skipped with the pip line instead of failing to import.
"""

import sys
from pathlib import Path

import pytest

from crest_edge.extras import is_installed
from crest_edge.registry import SERVE_MODULES

HERE = Path(__file__).parent
MISSING = [module for module in SERVE_MODULES if not is_installed(module)]
SERVED = ("ct2", "float32")


def pytest_collection_modifyitems(config, items):
    if MISSING:
        skip = pytest.mark.skip(reason=f"{', '.join(MISSING)} missing: pip install 'crest-edge[serve]'")
        for item in items:
            if HERE in item.path.parents:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def served_artifact(build_artifact):
    return build_artifact(*SERVED)


@pytest.fixture(scope="session")
def guard(served_artifact):
    from crest_edge import Guard

    # one engine thread: the machine has 2 cores, and the server's event loop needs one
    guard = Guard.load(served_artifact, device="cpu", threads=1, batch_size=64)
    yield guard
    guard.close()


@pytest.fixture(scope="session")
def cli() -> list[str]:
    """The crest-edge command, run as a process."""
    return [sys.executable, "-m", "crest_edge.cli"]

"""Fixtures for the fail-closed tests: the tiny checkpoint's artifact per format, and damaged copies."""

import shutil
from pathlib import Path

import pytest
from hardening_helpers import FORMAT_ENGINES


@pytest.fixture
def copy_of(tmp_path):
    """copy_of(artifact) -> a private copy to damage."""

    def copy(path: Path) -> Path:
        path = Path(path)
        target = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}-{path.name}"
        shutil.copytree(path, target) if path.is_dir() else shutil.copyfile(path, target)
        return target

    return copy


@pytest.fixture(params=list(FORMAT_ENGINES))
def artifact(request, engine_artifact):
    """Each format's tiny 8-bit artifact in turn."""
    return engine_artifact(FORMAT_ENGINES[request.param])

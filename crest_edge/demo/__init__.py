"""The demo checkpoint shipped in the package: a small XLM-R safe/unsafe classifier trained by
scripts/train_demo.py on the project's own seed set. It is a demo, not CREST."""

from pathlib import Path

from ..errors import ArtifactError


def demo_path() -> Path:
    path = Path(__file__).parent
    if not (path / "model.safetensors").is_file():
        raise ArtifactError(f"{path}: the demo checkpoint is missing; run `python scripts/train_demo.py`")
    return path

"""The demo checkpoint shipped in the package: a small XLM-R safe/unsafe classifier trained by
scripts/train_demo.py on the project's own seed set. It is a demo, not CREST."""

from pathlib import Path

from ..errors import ArtifactError

DEMO_DIR = Path(__file__).parent
DEMO_NAME = "crest-edge-demo"  # what a service calls it (its directory is only "demo")


def demo_path() -> Path:
    if not (DEMO_DIR / "model.safetensors").is_file():
        raise ArtifactError(f"{DEMO_DIR}: the demo checkpoint is missing; run `python scripts/train_demo.py`")
    return DEMO_DIR

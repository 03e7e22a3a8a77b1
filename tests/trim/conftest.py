"""Trimmed checkpoints built once per session: the demo for two packs and a synth tiny model."""

import pytest


@pytest.fixture(scope="session")
def trimmed(demo_checkpoint, tiny_checkpoint, tmp_path_factory):
    """trimmed(name) -> a trimmed checkpoint: "demo-europe", "demo-indic", "tiny-europe"."""
    from crest_edge.extras import is_installed
    from crest_edge.trim.build import trim

    if not is_installed("regex"):
        pytest.skip("trimming needs regex: pip install 'crest-edge[trim]'")

    root = tmp_path_factory.mktemp("trimmed")
    sources = {"demo": demo_checkpoint, "tiny": tiny_checkpoint}
    built = {}

    def build(name: str):
        if name not in built:
            source, pack = name.split("-")
            built[name] = trim(sources[source], root / name, [pack])
        return built[name]

    return build

"""The outlier stress checkpoint has the activation statistics of a pretrained encoder (fixed outlier
channels, spiky GELU and FFN outputs) where the demo has none, and it is a real classifier."""

import json

import pytest

from crest_edge.devtools.activations import measure, sample_texts
from crest_edge.devtools.outliers import OUTLIER_CHANNELS
from crest_edge.formats.outputs import SYNTH_MARK

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def stress_stats(stress_checkpoint):
    return measure(stress_checkpoint)


def test_stress_checkpoint_has_outliers_at_fixed_channels(stress_stats):
    layers = stress_stats.layers
    assert sum(layer["gelu_output"].ratio > 40 for layer in layers) >= len(layers) - 1
    assert sum(layer["ffn_input"].ratio > 15 for layer in layers) >= len(layers) - 1
    median = dict(stress_stats.summary())
    assert median["ffn_output"][0] > 25
    assert median["layer_output"][0] > 10
    channels, held = stress_stats.outlier_channels()
    assert sorted(channels) == sorted(OUTLIER_CHANNELS)
    assert held >= len(layers) - 1


def test_demo_has_no_outliers(demo_checkpoint):
    stats = measure(demo_checkpoint).summary()
    assert stats["gelu_output"][1] < 15
    assert all(stats[site][1] < 10 for site in ("ffn_input", "ffn_output", "layer_output"))


def test_stress_checkpoint_is_a_real_classifier(stress_checkpoint, stress_reference):
    record = json.loads((stress_checkpoint / "config.json").read_text(encoding="utf-8"))[SYNTH_MARK]
    assert record["outliers"]["train_accuracy"] > 0.95
    assert record["outliers"]["held_out_accuracy"] > 0.65  # the demo: 0.77 on the same held-out tenth
    # The parity corpus is never trained on; the classifier is still far better than chance there.
    assert stress_reference.info["accuracy"] > 0.65


def test_sample_texts_spread_over_the_seed_set():
    texts = sample_texts()
    assert len(texts) == 100 and len(set(texts)) == 100


def test_outliers_plant_into_random_weights_too(tmp_path):
    """`synth --shape base|large --outliers` plants the same structure into random weights (no training);
    checked here on the tiny random shape, which has the same code path."""
    from crest_edge.devtools.outliers import plant, sink_ids
    from crest_edge.devtools.synth import SHAPES, random_weights, write_tokenizer, write_tokenizer_config, xlmr_config
    from crest_edge.formats.checkpoint import write_safetensors
    from crest_edge.tokenizer import SPM_FILE

    s = SHAPES["tiny"]
    write_tokenizer(tmp_path, s["pieces"])
    config = xlmr_config(s["layers"], s["hidden"], s["heads"], s["ffn"], s["pieces"] + 2)
    weights = random_weights(config, 0)
    plant(weights, config, sink_ids((tmp_path / SPM_FILE).read_bytes()))
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    write_safetensors(tmp_path / "model.safetensors", weights)
    write_tokenizer_config(tmp_path)
    stats = measure(tmp_path, sample_texts(30))
    assert stats.summary()["gelu_output"][0] > 40
    assert sorted(stats.outlier_channels()[0]) == sorted(OUTLIER_CHANNELS)


def test_sinks_are_the_delimiters(demo_checkpoint):
    from crest_edge.devtools.outliers import sink_ids
    from crest_edge.tokenizer import EOS_ID, SPM_FILE, XLMRTokenizer

    sinks = sink_ids((demo_checkpoint / SPM_FILE).read_bytes())
    tokenizer = XLMRTokenizer.from_file(demo_checkpoint / SPM_FILE)
    assert sinks[0] == EOS_ID and len(sinks) == 4
    ids = tokenizer.encode("Why? Because, well.")
    assert sum(token in sinks for token in ids) == 3  # the three marks, no word


@pytest.mark.slow
def test_stress_checkpoint_is_deterministic(stress_checkpoint, tmp_path):
    from crest_edge.devtools.synth import synth
    from crest_edge.formats.manifest import sha256_file

    again = synth("tiny", tmp_path / "again", seed=0, outliers=True)
    assert sha256_file(again / "model.safetensors") == sha256_file(stress_checkpoint / "model.safetensors")


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow

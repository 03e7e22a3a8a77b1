"""The outlier stress checkpoint: a CREST-shaped classifier with the activation outliers of pretrained
encoders, so that quantization is tested where it breaks on real weights.

Pretrained BERT-family encoders carry a few fixed hidden channels with massive activations, largest on
delimiter tokens, where attention heads park to do nothing ("BERT Busters", arXiv 2105.06990;
Bondarenko et al., arXiv 2306.12929; LLM.int8(), arXiv 2208.07339). They are planted the way those
models carry them, in every layer at the same two channels (OUTLIER_CHANNELS):
- the sinks (`</s>`, ".", "?", ",") have large embeddings at the two channels (+/-);
- one FFN neuron per layer reads the two channels and fires only on the sinks, writing them back large
  before the residual add, which keeps them alive layer after layer: spiky GELU and FFN outputs;
- the embedding, attention and output LayerNorms scale the two channels up (and MINOR_CHANNELS, one
  per other 32-wide block, less) on every token, with the matmuls reading them scaling their columns
  down, as pretrained weights are small on outlier channels: every LayerNorm-fed matmul (Q/K/V, FFN
  up) sees outliers in its input, the residual stream carries them;
- one head per layer attends to the sinks through the outlier channels, so attention depends on
  their exact size, as in the pretrained models.

For `tiny` the planting goes into the trained demo checkpoint (crest_edge/demo), whose head is then
re-fitted on the seed set (`fit_head`), so the classifier is real and its margins mean something.
For `base`/`large` it goes into synth's random weights with no training (their verdicts mean nothing,
as for every synthesized base), for benchmarks of outlier-aware recipes. Needs torch and
transformers for the head (the `reference` extra).
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from ..formats import xlmr as X
from ..tokenizer import EOS_ID, FAIRSEQ_OFFSET
from ..tokenizer.proto import SentencePieceModel

# The tokens that carry the massive activations, as [SEP], "." and "," do in BERT: ~8% of seed-set tokens.
SINK_PIECES = (".", "?", ",")

# Two channels in different 32-wide blocks (q8_0's and q4_0's block size) and different 256-wide
# K-quant super-blocks wherever hidden > 256.
OUTLIER_CHANNELS = (77, 181)
# Lesser outlier channels, one in each other 32-wide block of the first 256, grown to scale**minor_power.
MINOR_CHANNELS = (20, 45, 110, 140, 210, 240)
OUTLIER_NEURON = 5  # the FFN neuron of each layer that carries the outlier


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How large the planted outliers are. Chosen by measurement (devtools.activations and
    `crest-edge parity`) so the tiny checkpoint fails today's converters as a pretrained encoder does
    (gguf q8_0 max |Δp| ~0.06, q4_k_m ~0.2) with outlier statistics of the same kind."""

    sink_embedding: float = 1.0  # the sinks' embedding at the channels, vs a trained embedding std of ~0.02
    attention_norm_scale: float = 4.0  # multiplies the attention LayerNorm's output at the channels
    output_norm_scale: float = 2.0  # multiplies the embedding and output LayerNorms' output at the channels
    minor_power: float = 0.5  # MINOR_CHANNELS grow by scale**minor_power
    sink_attention: float = 1.2  # query bias and key weight of the head that parks on the sinks
    neuron_read: float = 1.0  # FFN-up weight from each (unscaled) channel into the outlier neuron
    neuron_threshold: float = 10.0  # its (negative) bias: it fires only on the sink tokens
    neuron_write: float = 1.0  # FFN-down weight from the neuron back into each channel


HEAD_STEPS = 300  # full-batch Adam steps fitting the head on the cached sentence features
HEAD_LR = 1e-3
THREADS = 1  # fixed, so the result does not depend on the machine's core count


def sink_ids(sentencepiece_model: bytes) -> list[int]:
    """The vocabulary ids of `</s>` and the SINK_PIECES a tokenizer has (fairseq layout)."""
    pieces = SentencePieceModel(sentencepiece_model).pieces
    return [EOS_ID] + [i + FAIRSEQ_OFFSET for i, piece in enumerate(pieces) if piece in SINK_PIECES]


def plant(weights: dict[str, np.ndarray], config: dict, sinks: list[int], recipe: Recipe = Recipe()) -> None:
    """Plant the outliers into `weights` (in place), with the massive activations on token ids `sinks`."""
    signs = np.array([1.0, -1.0], dtype=np.float32)
    channels = list(OUTLIER_CHANNELS)
    for token in sinks:
        weights[f"{X.WORD_EMBEDDINGS}.weight"][token, channels] = recipe.sink_embedding * signs
    layers = int(config["num_hidden_layers"])
    grown = channels + list(MINOR_CHANNELS)

    def grow(norm: str, scale: float, readers: list[str]) -> None:
        # The whole channel (gain and bias) grows; the matmuls reading it shrink their columns to
        # match, as pretrained weights do (small weights on outlier channels): the residual stream
        # and every quantizer see the outlier, the matmul outputs do not.
        factor = np.array([scale] * len(channels) + [scale**recipe.minor_power] * len(MINOR_CHANNELS), np.float32)
        for kind in ("weight", "bias"):
            weights[f"{norm}.{kind}"][grown] *= factor
        for reader in readers:
            weights[f"{reader}.weight"][:, grown] /= factor

    attention_inputs = [X.layer_prefix(0) + name for name in (X.QUERY, X.KEY, X.VALUE)]
    grow(X.EMBEDDINGS_NORM, recipe.output_norm_scale, attention_inputs)
    n = OUTLIER_NEURON
    for i in range(layers):
        p = X.layer_prefix(i)
        grow(p + X.ATTENTION_NORM, recipe.attention_norm_scale, [p + X.FFN_UP])
        following = [X.layer_prefix(i + 1) + name for name in (X.QUERY, X.KEY, X.VALUE)]
        grow(p + X.OUTPUT_NORM, recipe.output_norm_scale, following if i + 1 < layers else [X.HEAD_DENSE])
        # One head per layer parks on the sinks: its first query dimension is a constant and its first key
        # dimension reads the outlier channels, so the sinks' keys win that head's attention (BERT's
        # heads attending to [SEP]); the attention logits then depend on the outliers' exact size.
        if recipe.sink_attention:
            weights[f"{p}{X.QUERY}.weight"][0] = 0.0
            weights[f"{p}{X.QUERY}.bias"][0] = recipe.sink_attention
            weights[f"{p}{X.KEY}.weight"][0] = 0.0
            weights[f"{p}{X.KEY}.weight"][0, channels] = recipe.sink_attention * signs
        up, down = f"{p}{X.FFN_UP}", f"{p}{X.FFN_DOWN}"
        weights[f"{up}.weight"][n] = 0.0
        weights[f"{up}.weight"][n, channels] = recipe.neuron_read / recipe.attention_norm_scale * signs
        weights[f"{up}.bias"][n] = -recipe.neuron_threshold
        weights[f"{down}.weight"][:, n] = 0.0
        weights[f"{down}.weight"][channels, n] = recipe.neuron_write * signs


def fit_head(weights: dict[str, np.ndarray], config: dict, tokenizer, seed: int = 0) -> dict:
    """Re-fit the classification head (dense -> tanh -> out_proj) on the seed set's training split, on
    the planted encoder's `<s>` features (computed once), starting from the head it has; update
    `weights` in place and return {"train_accuracy", "held_out_accuracy"}. The encoder is not trained:
    planting moves the demo's seed-set accuracy little, and a full fine-tune costs minutes on 2 cores."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    from .seed_training import batches, seed_split

    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        torch.manual_seed(seed)
        train_ids, train_y, test_ids, test_y = seed_split(tokenizer, random.Random(seed))
        model = XLMRobertaForSequenceClassification(XLMRobertaConfig(**config)).eval()
        missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
        if unexpected or not all(k.endswith("position_ids") for k in missing):
            raise ValueError(f"weights do not fit the config: missing {missing}, unexpected {unexpected}")

        def features(ids, labels):
            xs, ys = [], []
            with torch.inference_mode():
                for x, mask, y in batches(ids, labels, 64, random.Random(seed)):
                    xs.append(model.roberta(input_ids=x, attention_mask=mask).last_hidden_state[:, 0])
                    ys.append(y)
            return torch.cat(xs).clone(), torch.cat(ys)

        (x_train, y_train), (x_test, y_test) = features(train_ids, train_y), features(test_ids, test_y)
        head = model.classifier
        optimizer = torch.optim.Adam(head.parameters(), lr=HEAD_LR)
        for _ in range(HEAD_STEPS):
            loss = torch.nn.functional.cross_entropy(head(x_train[:, None]), y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.inference_mode():
            result = {
                "train_accuracy": float((head(x_train[:, None]).argmax(-1) == y_train).float().mean()),
                "held_out_accuracy": float((head(x_test[:, None]).argmax(-1) == y_test).float().mean()),
            }
        for name, value in head.state_dict().items():
            weights[X.HEAD_PREFIX + name] = value.detach().numpy().copy()
        return result
    finally:
        torch.set_num_threads(threads)

"""XLM-R sequence classification in Hugging Face's tensor names: the one list every converter, the
checkpoint validator and the synthesizer read."""

from __future__ import annotations

ARCHITECTURE = "XLMRobertaForSequenceClassification"
MODEL_TYPE = "xlm-roberta"

WORD_EMBEDDINGS = "roberta.embeddings.word_embeddings"
POSITION_EMBEDDINGS = "roberta.embeddings.position_embeddings"
TOKEN_TYPE_EMBEDDINGS = "roberta.embeddings.token_type_embeddings"
EMBEDDINGS_NORM = "roberta.embeddings.LayerNorm"
HEAD_DENSE = "classifier.dense"
HEAD_OUT = "classifier.out_proj"
HEAD_PREFIX = "classifier."

# Inside each layer (prefix `layer_prefix(i)`): the four attention projections, the FFN pair, two norms.
QUERY, KEY, VALUE = "attention.self.query", "attention.self.key", "attention.self.value"
ATTENTION_OUT = "attention.output.dense"
ATTENTION_NORM = "attention.output.LayerNorm"
FFN_UP = "intermediate.dense"
FFN_DOWN = "output.dense"
OUTPUT_NORM = "output.LayerNorm"
LAYER_LINEARS = (QUERY, KEY, VALUE, ATTENTION_OUT, FFN_UP, FFN_DOWN)
LAYER_NORMS = (ATTENTION_NORM, OUTPUT_NORM)


LAYERS_PREFIX = "roberta.encoder.layer."


def layer_prefix(index: int) -> str:
    return f"{LAYERS_PREFIX}{index}."


def expected_shapes(config: dict, num_labels: int) -> dict[str, tuple[int, ...]]:
    """Every tensor an XLM-R classifier with `config` must have, in a fixed order."""
    h, inter = int(config["hidden_size"]), int(config["intermediate_size"])
    shapes = {
        f"{WORD_EMBEDDINGS}.weight": (int(config["vocab_size"]), h),
        f"{POSITION_EMBEDDINGS}.weight": (int(config["max_position_embeddings"]), h),
        f"{TOKEN_TYPE_EMBEDDINGS}.weight": (int(config.get("type_vocab_size", 1)), h),
        f"{EMBEDDINGS_NORM}.weight": (h,),
        f"{EMBEDDINGS_NORM}.bias": (h,),
        f"{HEAD_DENSE}.weight": (h, h),
        f"{HEAD_DENSE}.bias": (h,),
        f"{HEAD_OUT}.weight": (num_labels, h),
        f"{HEAD_OUT}.bias": (num_labels,),
    }
    linear_shapes = {
        QUERY: (h, h),
        KEY: (h, h),
        VALUE: (h, h),
        ATTENTION_OUT: (h, h),
        FFN_UP: (inter, h),
        FFN_DOWN: (h, inter),
    }
    for i in range(int(config["num_hidden_layers"])):
        p = layer_prefix(i)
        for name in (QUERY, KEY, VALUE, ATTENTION_OUT):
            shapes[f"{p}{name}.weight"], shapes[f"{p}{name}.bias"] = linear_shapes[name], (h,)
        for norm in LAYER_NORMS:
            shapes[f"{p}{norm}.weight"], shapes[f"{p}{norm}.bias"] = (h,), (h,)
        for name in (FFN_UP, FFN_DOWN):
            shapes[f"{p}{name}.weight"], shapes[f"{p}{name}.bias"] = linear_shapes[name], (linear_shapes[name][0],)
    return shapes

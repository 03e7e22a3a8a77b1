"""The GGUF artifact: one self-describing `.gguf` file that llama.cpp runs as its `bert` architecture,
with crest-edge's manifest and the sentencepiece model inside (see `gguf_file` for reading it)."""

from __future__ import annotations

from . import xlmr

NAME = "gguf"
ARCH = "bert"
PACKAGES = ("llama-cpp-python", "gguf")
MANIFEST_KEY = "crest_edge.manifest"
SENTENCEPIECE_KEY = "crest_edge.sentencepiece_model"
LABELS_KEY = f"{ARCH}.classifier.output_labels"

# --quant -> precision class. f32 is 16-bit: its weights are float32, but llama.cpp computes every GELU
# through an fp16 table of the tanh approximation (GELU below), and on real pretrained weights that moved
# p(unsafe) by up to 0.0089 (max |Δ logit| 0.033, 30x the fp32 gate; multilingual-e5-small, README
# "Quantization on activation outliers"), where the 16-bit gate holds (100%, <= 0.01).
QUANTS = {
    "f32": "16-bit",
    "f16": "16-bit",
    "bf16": "16-bit",
    "q8_0": "8-bit",
    "q6_k": "5/6-bit",
    "q5_k_m": "5/6-bit",
    "q4_k_m": "4-bit",
    "q4_0": "4-bit",
}
# --quant -> gguf.LlamaFileType member: f32/f16/bf16 are written by gguf-py, the rest by llama.cpp's quantizer
FILE_TYPES = {
    "f32": "ALL_F32",
    "f16": "MOSTLY_F16",
    "bf16": "MOSTLY_BF16",
    "q8_0": "MOSTLY_Q8_0",
    "q6_k": "MOSTLY_Q6_K",
    "q5_k_m": "MOSTLY_Q5_K_M",
    "q4_k_m": "MOSTLY_Q4_K_M",
    "q4_0": "MOSTLY_Q4_0",
}
WRITTEN_DIRECTLY = ("f32", "f16", "bf16")
REFUSED = {
    "int8": "--quant int8 is not a GGUF type; use q8_0",
    "int4": "--quant int4 is not a GGUF type; use q4_k_m or q4_0",
}
# What every GGUF computes differently from the checkpoint, recorded in its manifest: llama.cpp's bert
# graph (LLM_FFN_GELU) uses the tanh approximation of GELU, on the CPU through an fp16 lookup table
# (ggml-cpu vec.h), where XLM-R uses erf GELU. Even an f32 file is therefore not exact: on a pretrained
# multilingual encoder (12 layers) f32 moved p(unsafe) by up to 4.2e-3.
GELU = "tanh approximation, fp16 lookup table on the CPU (llama.cpp bert graph); the checkpoint's is erf"

# Tensors kept F32 whatever the quantization.
KEEP_F32_PREFIXES = ("cls.", "position_embd.", "token_types.")

# Weight groups by what feeds them, as regexes on GGUF tensor names (what llama.cpp's tensor type
# overrides match). The LayerNorm-fed matmuls read the LayerNorm outputs, where pretrained encoders
# carry their outlier channels.
TENSOR_GROUPS = {
    "layernorm_fed": r"^blk\.\d+\.(attn_q|attn_k|attn_v|ffn_up)\.weight$",
    "ffn_down": r"^blk\.\d+\.ffn_down\.weight$",
}
# --quant -> {tensor group: GGML type name}: the outlier-aware recipe each quantized type is written
# with (empty: llama.cpp's own choice for every weight). Chosen by measurement on the outlier stress
# checkpoint (`crest-edge synth --shape tiny --outliers`) and on real pretrained weights
# (scripts/pretrained_checkpoint.py: multilingual-e5-small, 12 layers, hidden 384; see README
# "Quantization on outliers"). max |Δp| on the parity corpus, stress / pretrained (gates 0.05 8-bit,
# 0.15 4-bit):
#   q8_0: all Q8_0 0.058 / 0.189; layernorm_fed F16 0.031 / 0.063; layernorm_fed + ffn_down F16
#     0.032 / 0.041 (kept; q8_0's 32-wide activation blocks break on the LayerNorm outputs first, then on
#     the GELU output of pretrained weights; layernorm_fed + attn_output F16 instead: - / 0.043).
#   q4_k_m: plain 0.19 / -; layernorm_fed Q8_0 0.060 / 0.295; layernorm_fed F16 - / 0.232; layernorm_fed F16
#     + ffn_down Q8_0 0.060 / 0.060, but on the demo a text's score then moved by 1.1e-4 with its batch
#     neighbours (over the 1e-4 limit; ffn_down's int8 activations round upstream sum-order noise);
#     layernorm_fed + ffn_down F16 0.060 / 0.031, 5e-6 (kept). K-quants quantize activations in 256-wide
#     blocks, Q8_0 weights get 32-wide ones, F16 weights none.
#   q4_0: layernorm_fed Q8_0 0.067 / 0.222; layernorm_fed F16 0.047 / 0.046; layernorm_fed F16 + ffn_down
#     Q8_0 0.055 / 0.060 (kept: the pretrained weights are stored as Q4_0, so a q4_0 ffn_down lands on their
#     own grid there and measures optimistically; Q8_0 does not depend on that).
#   q6_k 0.144 -> 0.089, q5_k_m 0.140 -> 0.084 with layernorm_fed Q8_0 (stress only).
# What stays 4-bit in q4_k_m and q4_0 is then the word embeddings (~70% of XLM-R base's weights) and
# attn_output. llama.cpp's importance matrix from the fp32 activations did not help reliably (q4_k_m
# alone 0.14 with more flips; with the layernorm_fed Q8_0 recipe 0.10 instead of 0.06).
# bf16 (gguf-py writes it; llama.cpp rounds the activations to bf16 too): 0.0099 -> 0.0027, same size.
TYPE_RECIPES: dict[str, dict[str, str]] = {
    "bf16": {"layernorm_fed": "F16"},
    "q8_0": {"layernorm_fed": "F16", "ffn_down": "F16"},
    "q6_k": {"layernorm_fed": "Q8_0"},
    "q5_k_m": {"layernorm_fed": "Q8_0"},
    "q4_k_m": {"layernorm_fed": "F16", "ffn_down": "F16"},
    "q4_0": {"layernorm_fed": "F16", "ffn_down": "Q8_0"},
}
TOKEN_EMBEDDINGS = "token_embd.weight"

_LAYER_NAMES = {
    xlmr.QUERY: "attn_q",
    xlmr.KEY: "attn_k",
    xlmr.VALUE: "attn_v",
    xlmr.ATTENTION_OUT: "attn_output",
    xlmr.ATTENTION_NORM: "attn_output_norm",
    xlmr.FFN_UP: "ffn_up",
    xlmr.FFN_DOWN: "ffn_down",
    xlmr.OUTPUT_NORM: "layer_output_norm",
}
_TOP_NAMES = {
    xlmr.WORD_EMBEDDINGS: "token_embd",
    xlmr.POSITION_EMBEDDINGS: "position_embd",
    xlmr.TOKEN_TYPE_EMBEDDINGS: "token_types",
    xlmr.EMBEDDINGS_NORM: "token_embd_norm",
    xlmr.HEAD_DENSE: "cls",
    xlmr.HEAD_OUT: "cls.output",
}


def tensor_name(hf_name: str) -> str:
    """The GGUF (llama.cpp bert) name of a Hugging Face XLM-R tensor."""
    stem, kind = hf_name.rsplit(".", 1)
    if stem in _TOP_NAMES:
        return f"{_TOP_NAMES[stem]}.{kind}"
    block, rest = stem[len(xlmr.LAYERS_PREFIX) :].split(".", 1)
    return f"blk.{block}.{_LAYER_NAMES[rest]}.{kind}"


# What `--quant auto-...` tries per class, cheapest first: (quant, converter options)
# q4_k_m also plain (no TYPE_RECIPES overrides): on x86 it is ~1.8x faster at 128 tokens than with
# the recipe (CREST-Base shape), and it is kept when it passes the gates on the calibration set.
AUTO = {
    "8-bit": (("q8_0", {}),),
    "4-bit": (("q4_0", {}), ("q4_k_m", {"tensor_types": {}}), ("q4_k_m", {})),
}

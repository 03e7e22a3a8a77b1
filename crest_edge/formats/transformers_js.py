"""The transformers.js package: the folder layout `pipeline('text-classification', path)` loads
(config.json, tokenizer.json, tokenizer_config.json, onnx/model<suffix>.onnx, the suffix naming the
dtype), plus crest-edge's own tokenizer file and `crest-edge.json`, so crest-edge runs the same graph
with its onnx engine. The graph is the onnx format's, at the matching precision."""

NAME = "transformers-js"
ONNX_DIR = "onnx"
# --quant (transformers.js's dtype) -> (the onnx format's --quant, the file transformers.js looks for)
DTYPES = {
    "q8": ("int8", "model_quantized.onnx"),
    "q4": ("int4", "model_q4.onnx"),
    "fp16": ("fp16", "model_fp16.onnx"),
    "fp32": ("fp32", "model.onnx"),
}
QUANTS = {"q8": "8-bit", "q4": "4-bit", "fp16": "16-bit", "fp32": "fp32"}
REFUSED = {
    **{q: f"--quant {q}: transformers.js names this dtype q8" for q in ("int8", "uint8", "q8_0")},
    **{q: f"--quant {q}: transformers.js names this dtype q4" for q in ("int4", "q4_0", "q4_k_m")},
}
PRECISION = {"q8": "int8", "q4": "int4", "fp16": "float16", "fp32": "float32"}
HF_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")
AUTO: dict = {}  # no parity-gated selection: the app asks transformers.js for one dtype by name


def model_file(quant: str) -> str:
    """The graph's path inside the package, e.g. onnx/model_quantized.onnx."""
    return f"{ONNX_DIR}/{DTYPES[quant][1]}"


# transformers.js's own tokenizer (from tokenizer.json) against crest-edge's, measured in headless
# Chromium by tests/browser/test_transformers_js.py: its Precompiled normalizer walks characters, not
# grapheme clusters, and it treats U+200D and some decomposed forms differently.
BROWSER_TOKENIZER_MISMATCHES = {
    "test_strings": 145,  # of 3,174
    "ids_of_200": 4,  # of 200 parity corpus texts (every 7th)
    "label_flips_of_200": 2,  # both from those ids: decomposed Vietnamese, U+200D inside words
    # the whole corpus (measured once, not in the test): 21 decomposed (NFD) texts, 20 with
    # U+200B/U+200C/U+200D/U+2060 inside words; 17 of the 41 flip the demo's label
    "ids_of_1416": 41,
    "label_flips_of_1416": 17,
}
# transformers.js truncates the ids after adding <s> and </s> (the </s> is lost); crest-edge's `head`
# keeps 510 pieces and </s>. Texts over 512 ids score differently (by up to 0.003 on the demo).
TRUNCATION = "transformers.js: first 512 ids including <s>, without </s>; crest-edge head: <s> 510 pieces </s>"

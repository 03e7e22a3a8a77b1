"""The transformers.js package: the folder layout `pipeline('text-classification', path)` loads
(config.json, tokenizer.json, tokenizer_config.json, onnx/model<suffix>.onnx, the suffix naming the
dtype), plus `crest_tokenizer.js` (the app installs it on the pipeline's tokenizer for crest-edge's
ids), crest-edge's own tokenizer file and `crest-edge.json`, so crest-edge runs the same graph with
its onnx engine. The graph is the onnx format's, at the matching precision."""

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
# the ES module that gives transformers.js crest-edge's ids: useCrestTokenizer(pipeline.tokenizer)
TOKENIZER_MODULE = "crest_tokenizer.js"
AUTO: dict = {}  # no parity-gated selection: the app asks transformers.js for one dtype by name


def model_file(quant: str) -> str:
    """The graph's path inside the package, e.g. onnx/model_quantized.onnx."""
    return f"{ONNX_DIR}/{DTYPES[quant][1]}"


# Token ids transformers.js gives against crest-edge's, measured in headless Chromium by
# tests/browser/test_transformers_js.py on the demo: parity corpus (1,416 texts; the 200 are every 7th)
# and the tokenizer test strings (3,174). With the package's TOKENIZER_MODULE installed on the
# pipeline's tokenizer they are all equal. Without it, transformers.js's `Precompiled` normalizer (a
# hard-coded approximation of nmt_nfkc, then JS NFKC, on characters, not grapheme clusters) and its
# pre-tokenizer (JS whitespace, no Metaspace split) differ on decomposed (NFD) text and on
# U+200B/U+200C/U+200D/U+2060 inside words, and the label flips on some of those texts.
BROWSER_TOKENIZER_MISMATCHES = {
    "with_crest_tokenizer": {"ids_of_1416": 0, "ids_of_200": 0, "test_strings": 0, "label_flips_of_200": 0},
    "without_crest_tokenizer": {"ids_of_1416": 41, "ids_of_200": 4, "test_strings": 145, "label_flips_of_200": 2},
}
# transformers.js's own truncation cuts the ids after adding <s> and </s>, so </s> is lost.
TRUNCATION = (
    "with crest_tokenizer.js: crest-edge head, <s> 510 pieces </s>;"
    " without: transformers.js's first 512 ids including <s>, without </s>"
)

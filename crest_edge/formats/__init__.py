"""Artifact formats: one module per format holds its contract (file names, keys, input/output names,
quantizations and their precision classes), imported by both its converter and its adapter.

manifest    the self-description every artifact carries
checkpoint  a Hugging Face XLM-R classifier directory (the fp32 source and reference)
xlmr        XLM-R's tensor names and shapes
artifact    open_artifact: what a path holds, decided by the manifest
ct2, gguf, onnx  the three engine formats
"""

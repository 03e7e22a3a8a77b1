"""Engine adapters, one module per engine, all behind runtimes.base.Engine."""
import importlib

ADAPTERS = {
    "torch": "crest_edge.runtimes.torch_ref",
    "ct2": "crest_edge.runtimes.ct2",
    "llamacpp": "crest_edge.runtimes.llamacpp",
    "onnx": "crest_edge.runtimes.onnx",
}
# which adapter runs which artifact format ("hf" is a Hugging Face checkpoint: the fp32 reference)
ENGINE_FOR_FORMAT = {"hf": "torch", "ct2": "ct2", "gguf": "llamacpp", "onnx": "onnx"}


def adapter(engine: str):
    if engine not in ADAPTERS:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ADAPTERS)}")
    return importlib.import_module(ADAPTERS[engine])

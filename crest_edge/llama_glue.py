"""What the GGUF converter and the llama.cpp adapter share about llama-cpp-python: importing it, routing
its log, initialising its backend."""

from __future__ import annotations

import ctypes
import logging

from .extras import require

llama_log = logging.getLogger("crest_edge.llamacpp")
# ggml.h's enum ggml_log_level (llama-cpp-python does not export it)
GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR, GGML_LOG_LEVEL_CONT = 3, 4, 5
# llama.cpp's warnings are mostly load chatter ("vocab missing newline token", our own quantizer
# overrides), so they go to INFO; errors stay errors; the rest to DEBUG.
_LEVELS = {GGML_LOG_LEVEL_WARN: logging.INFO, GGML_LOG_LEVEL_ERROR: logging.ERROR}
_log_callback = None  # kept alive for as long as llama.cpp may call it


def llama_cpp(purpose: str = "the llamacpp engine"):
    """The llama_cpp module, or MissingExtraError naming the pip line."""
    return require("llama_cpp", purpose)


def route_logs(lib) -> None:
    """Send llama.cpp's logging to the `crest_edge.llamacpp` logger instead of stderr.

    llama.cpp has one global log callback (llama-cpp-python installs its own on import), so
    this is called whenever an engine is opened or a file quantized, never at import.
    """
    global _log_callback
    if _log_callback is None:
        last = [logging.DEBUG]

        @lib.llama_log_callback
        def callback(level, text, _user_data):
            if level != GGML_LOG_LEVEL_CONT:  # a continuation keeps the previous message's level
                last[0] = _LEVELS.get(level, logging.DEBUG)
            message = text.decode("utf-8", "replace").rstrip("\n") if text else ""
            if message:
                llama_log.log(last[0], "%s", message)

        _log_callback = callback
    lib.llama_log_set(_log_callback, ctypes.c_void_p(0))


def ready(purpose: str = "the llamacpp engine"):
    """llama_cpp with its log routed and its backend initialised (idempotent)."""
    lib = llama_cpp(purpose)
    route_logs(lib)
    lib.llama_backend_init()
    return lib

"""llama.cpp adapter (llama-cpp-python's low-level API): the whole model, head included, runs in llama.cpp.

Our own token ids go in through `llama_batch`; llama.cpp's tokenizer and `Llama.embed` are never
used. With pooling RANK, llama.cpp applies the classification head to token 0 and
`llama_get_embeddings_seq` returns `n_cls_out` raw logits per sequence.

Thread safety: a llama context is not thread-safe, so every call holds the engine's lock; one
engine serves one call at a time. Open one engine per thread for parallel work.
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading

import numpy as np

from crest_edge.errors import ArtifactError
from crest_edge.formats import gguf as fmt
from crest_edge.llama_glue import llama_cpp, llama_log, ready

from .base import EngineInfo, check_device, opened
from .memory_pages import discard, read_on_demand

NAME = "llamacpp"
CTX_STEP = 64  # contexts are sized in steps of this many tokens
# Consecutive sequences share one llama_encode while their ids total at most this many. llama.cpp
# attends over the whole call (masked), so packing adds attention work, but it fills the matrix
# kernels better. Measured on XLM-R base q4_k_m, ms per sequence, 2 threads (1 thread):
#   16 ids: 1 per call 10.3, 4 per call 6.5, 16 per call 6.3
#   64 ids: 1 per call 25.0 (44.5), 2 per call 22.9 (38.0), 4 per call 20.0 (37.8)
#   128 ids: no gain from packing (49-54 either way)
# Each packed id also costs 1 MB of llama.cpp's logits buffer for a moment (see _discard_logits),
# so 128 keeps that under the 128-token calls' own; 0 turns packing off.
PACK_TOKENS = 128
MAX_SEQUENCES = 256  # llama.cpp's LLAMA_MAX_SEQ: most sequence ids one context takes
# llama.cpp's CPU "repack" buffers (use_extra_bufts) copy some quantized weights into an interleaved
# layout. On x86-64 (AVX512 here) they measured no faster for this encoder and cost ~36 MB more RSS
# for XLM-R base q4_k_m, so they are off there; elsewhere (e.g. ARM) llama.cpp's default stands.
REPACK_DEFAULT = platform.machine().lower() not in ("x86_64", "amd64")


def _llama():
    return llama_cpp("the llamacpp engine")


def _gpu_backend(llama_cpp) -> str | None:
    """'cuda' or 'metal' if this llama.cpp build has that backend and a device for it."""
    if not llama_cpp.llama_supports_gpu_offload():
        return None
    names = []
    try:
        from llama_cpp._ggml import libggml

        libggml.ggml_backend_dev_get.restype = ctypes.c_void_p
        libggml.ggml_backend_dev_name.restype = ctypes.c_char_p
        libggml.ggml_backend_dev_name.argtypes = [ctypes.c_void_p]
        for i in range(libggml.ggml_backend_dev_count()):
            names.append(libggml.ggml_backend_dev_name(libggml.ggml_backend_dev_get(i)).decode().lower())
    except (ImportError, AttributeError, OSError):
        names = [llama_cpp.llama_print_system_info().decode("utf-8", "replace").lower()]
    text = " ".join(names)
    if "cuda" in text:
        return "cuda"
    if "metal" in text or "mtl" in text:
        return "metal"
    return None


def devices() -> list[str]:
    gpu = _gpu_backend(_llama())
    return [gpu, "cpu"] if gpu else ["cpu"]


class LlamaCppEngine:
    def __init__(
        self,
        artifact,
        device: str,
        threads: int | None,
        repack: bool | None = None,
        flash_attn: bool | None = None,
        lazy_embeddings: bool = True,
        pack_tokens: int | None = None,
    ):
        check_device("llama.cpp", device, devices())
        llama = self._llama = ready()
        self._lock = threading.Lock()
        self._ctx = None
        params = llama.llama_model_default_params()
        params.n_gpu_layers = 0 if device == "cpu" else -1  # -1: every layer
        params.use_extra_bufts = REPACK_DEFAULT if repack is None else repack
        self._model = llama.llama_model_load_from_file(str(artifact.path).encode(), params)
        if not self._model:
            raise ArtifactError(f"{artifact.path}: llama.cpp could not load it (see the crest_edge.llamacpp log)")
        if lazy_embeddings:
            self._release_embedding_pages(artifact)
        self.num_labels = llama.llama_model_n_cls_out(self._model)
        if self.num_labels != len(artifact.labels):
            self.close()
            raise ArtifactError(
                f"{artifact.path}: llama.cpp sees {self.num_labels} classifier outputs, the manifest lists "
                f"{len(artifact.labels)} labels"
            )
        self._threads = threads or os.cpu_count() or 1
        # On the CPU flash attention is off: llama.cpp's CPU kernel makes a sequence's logits depend on
        # the sequences packed beside it (demo q8_0, 200 texts alone vs in packs: max |Δp| 7.7e-4 with
        # it, 2.2e-5 without; the activations' re-quantization amplifies its rounding differences), and
        # it rounds K and V to f16 (~1e-3 logit error in an f32 file, which keeps it off everywhere).
        # On a GPU llama.cpp's auto choice stands for the other precisions (not measured here).
        if flash_attn is None:
            flash_attn = False if device == "cpu" or artifact.manifest.quantization == "f32" else None
        self._flash_attn = (
            llama.LLAMA_FLASH_ATTN_TYPE_AUTO
            if flash_attn is None
            else llama.LLAMA_FLASH_ATTN_TYPE_ENABLED
            if flash_attn
            else llama.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        self._ctx_tokens = self._ctx_sequences = 0  # n_ubatch and n_seq_max of the current context
        self._logits_rows = 0  # rows of the context's (unused) logits buffer already given back
        self._n_ctx_train = llama.llama_model_n_ctx_train(self._model)
        # one call must fit one ubatch, which is at most the model's context
        budget = PACK_TOKENS if pack_tokens is None else max(0, int(pack_tokens))
        self._pack_tokens = min(budget, self._n_ctx_train)
        self._n_vocab = llama.llama_vocab_n_tokens(llama.llama_model_get_vocab(self._model))
        layers = llama.llama_model_n_layer(self._model)
        # n_gpu_layers -1 offloads every repeating layer plus the output (head) layer
        self.gpu_layers = 0 if device == "cpu" else layers + 1
        self.info = EngineInfo(
            NAME,
            device,
            artifact.manifest.quantization,
            f"llama-cpp-python {llama.__version__}, {self.gpu_layers}/{layers + 1} layers on GPU, "
            f"{self._threads} threads",
        )

    @staticmethod
    def _release_embedding_pages(artifact) -> None:
        """Drop the token-embedding table from RSS right after llama.cpp pre-faulted it: a call reads
        only its own tokens' rows, each read from the file on its first use (see memory_pages). For
        XLM-R base q4_k_m that is 157 MB of RSS not held for rows no text asks for."""
        span = (artifact.tensor_spans or {}).get(fmt.TOKEN_EMBEDDINGS)
        if span:
            released = read_on_demand(artifact.path, *span)
            llama_log.debug("token embeddings read on demand: %.1f MB released", released / 1e6)

    def _context(self, tokens: int, sequences: int):
        """A context for calls of up to `tokens` ids in up to `sequences` sequences; re-created only
        when a bigger call comes.

        Sized from the requests, not to a blanket maximum: llama.cpp's output buffer holds
        n_vocab + n_embd floats for every token of a call (about 1 MB per token for XLM-R's
        250k vocabulary, even with pooling; see _discard_logits), and its compute buffers grow
        with n_ubatch.
        """
        if self._ctx is not None and tokens <= self._ctx_tokens and sequences <= self._ctx_sequences:
            return self._ctx
        llama = self._llama
        tokens, sequences = max(tokens, self._ctx_tokens), max(sequences, self._ctx_sequences)
        if self._ctx is not None:
            llama.llama_free(self._ctx)
            self._ctx = None
        size = min(-(-tokens // CTX_STEP) * CTX_STEP, self._n_ctx_train)
        slots = 1 << (sequences - 1).bit_length()  # a power of two: few re-creations
        params = llama.llama_context_default_params()
        params.n_ctx = self._n_ctx_train
        params.n_batch = params.n_ubatch = size  # non-causal: a whole call must fit one ubatch
        params.n_seq_max = slots
        params.embeddings = True
        params.pooling_type = llama.LLAMA_POOLING_TYPE_RANK
        params.flash_attn_type = self._flash_attn
        params.n_threads = params.n_threads_batch = self._threads
        ctx = llama.llama_init_from_model(self._model, params)
        if not ctx:
            raise MemoryError(f"llama.cpp could not create a context for {size} tokens")
        self._ctx, self._ctx_tokens, self._ctx_sequences = ctx, size, slots
        self._discard_logits(ctx, slots)  # the constructor reserves a logits row per sequence
        return ctx

    def logits(self, sequences) -> np.ndarray:
        arrays = [np.asarray(seq, dtype=np.int32) for seq in sequences]
        for ids in arrays:
            if not 0 < len(ids) <= self._n_ctx_train:
                raise ValueError(f"sequence of {len(ids)} ids; the model takes 1 to {self._n_ctx_train}")
            if ids.min() < 0 or ids.max() >= self._n_vocab:
                raise ValueError(f"token ids must lie in [0, {self._n_vocab})")
        out = np.empty((len(arrays), self.num_labels), dtype=np.float32)
        with self._lock:
            opened(self._model, NAME)
            for first, group in _packs(arrays, self._pack_tokens):
                out[first : first + len(group)] = self._encode(group)
        return out

    def _encode(self, group: list[np.ndarray]) -> np.ndarray:
        """One llama_encode over the sequences of `group`, each its own sequence id, positions from 0."""
        llama = self._llama
        n = sum(len(ids) for ids in group)
        ctx = self._context(n, len(group))
        batch = llama.llama_batch_init(n, 0, 1)
        try:
            view = np.ctypeslib.as_array
            view(batch.token, shape=(n,))[:] = np.concatenate(group)
            view(batch.pos, shape=(n,))[:] = np.concatenate([np.arange(len(ids), dtype=np.int32) for ids in group])
            view(batch.n_seq_id, shape=(n,))[:] = 1
            view(batch.logits, shape=(n,))[:] = 1
            i = 0
            for seq_id, ids in enumerate(group):
                for _ in range(len(ids)):
                    batch.seq_id[i][0] = seq_id
                    i += 1
            batch.n_tokens = n
            status = llama.llama_encode(ctx, batch)
            if status != 0:
                raise RuntimeError(f"llama_encode failed with status {status}")
            if n > self._logits_rows:
                self._discard_logits(ctx, n)
            out = np.empty((len(group), self.num_labels), dtype=np.float32)
            for seq_id in range(len(group)):
                pointer = llama.llama_get_embeddings_seq(ctx, seq_id)
                if not pointer:
                    raise RuntimeError("llama.cpp returned no pooled output (is pooling RANK in the file?)")
                out[seq_id] = np.ctypeslib.as_array(pointer, shape=(self.num_labels,))
            return out
        finally:
            llama.llama_batch_free(batch)

    def _discard_logits(self, ctx, rows: int) -> None:
        """llama.cpp (re)allocates and zero-fills an n_vocab-float logits row per token of a call
        whenever a call is longer than any before on this context, even for an encoder that never
        writes them: 1 MB per token for XLM-R, 488 MB for a 512-token window. Nobody reads it, so its
        pages go back at once. The peak during that one call remains; what stays resident does not.

        CPU only: with a GPU, llama.cpp puts this buffer in the device's pinned host memory, which
        is not ours to unmap."""
        self._logits_rows = rows
        if self.info.device != "cpu":
            return
        pointer = self._llama.llama_get_logits(ctx)
        address = ctypes.cast(pointer, ctypes.c_void_p).value if pointer else None
        if address:
            discard(address, rows * self._n_vocab * 4)

    def close(self) -> None:
        with self._lock:
            if self._ctx is not None:
                self._llama.llama_free(self._ctx)
                self._ctx = None
            if self._model is not None:
                self._llama.llama_model_free(self._model)
                self._model = None


def _packs(arrays: list[np.ndarray], budget: int):
    """(index of the first, sequences) for runs of consecutive sequences totalling <= `budget` ids
    (and at most MAX_SEQUENCES of them); a longer sequence runs alone."""
    first, group, total = 0, [], 0
    for index, ids in enumerate(arrays):
        if group and (total + len(ids) > budget or len(group) == MAX_SEQUENCES):
            yield first, group
            first, group, total = index, [], 0
        group.append(ids)
        total += len(ids)
    if group:
        yield first, group


def open_engine(
    artifact,
    device: str,
    threads: int | None = None,
    repack: bool | None = None,
    flash_attn: bool | None = None,
    lazy_embeddings: bool = True,
    pack_tokens: int | None = None,
) -> LlamaCppEngine:
    """`repack`: llama.cpp's CPU weight-repacking buffers (default: off on x86-64, see REPACK_DEFAULT).
    `flash_attn`: default off on the CPU and for f32 files, llama.cpp's automatic choice otherwise.
    `lazy_embeddings`: release the mapped token-embedding pages after loading (Linux; see memory_pages).
    `pack_tokens`: most ids one llama_encode packs from consecutive sequences (default PACK_TOKENS)."""
    return LlamaCppEngine(artifact, device, threads, repack, flash_attn, lazy_embeddings, pack_tokens)


def capabilities() -> dict:
    """For `crest-edge doctor`: GPU offload of this build and the CPU features it was compiled with."""
    llama_cpp = _llama()
    features = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    names = (part.split("=")[0].split(":")[-1].strip() for part in features.split("|") if "= 1" in part)
    compiled = sorted(name for name in names if name.isupper())
    return {
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "quantizations": " ".join(fmt.QUANTS) + " (every device)",
        "cpu_features": compiled,
    }

"""What a `crest-edge serve` instance is configured with, checked once before anything starts."""

from __future__ import annotations

import dataclasses
import ipaddress

from ..errors import CrestEdgeError
from ..windows import POLICIES
from .policy import ON_ERROR


@dataclasses.dataclass(frozen=True)
class Settings:
    model: str | None = None  # any path Guard.load takes; None: the bundled demo
    host: str = "127.0.0.1"
    port: int = 8000  # 0: any free port (the one chosen is logged)
    threshold: float = 0.5
    api_key: str | None = None  # required as a Bearer token on every endpoint but / and /health
    insecure: bool = False  # allow a non-loopback bind without an API key
    # A batch closes when its padded size (rows x longest row) would pass this, or when its oldest
    # text has waited max_wait_ms. 8192 = 16 full 512-token windows.
    max_batch_tokens: int = 8192
    max_wait_ms: float = 2.0
    max_batch_rows: int = 64  # sequences per engine call (Guard's batch_size when serve() loads it)
    queue: int = 1024  # texts waiting for the engine; beyond it a request gets 503 + Retry-After
    on_error: str = "block"
    engine: str = "auto"
    device: str = "auto"
    threads: int | None = None
    long_text: str = "windows"
    max_inputs: int = 32  # texts in one request (text-embeddings-inference's default client batch)
    max_body_bytes: int = 1 << 20
    cors: tuple[str, ...] = ()  # allowed origins; none: no CORS headers at all
    log_texts: bool = False
    model_name: str | None = None  # the `model` field of responses; default: from the artifact
    shutdown_timeout_s: float = 30.0  # how long SIGTERM waits for in-flight requests

    def check(self) -> Settings:
        """Raise CrestEdgeError naming every problem at once; return self when there is none."""
        problems = []
        if self.on_error not in ON_ERROR:
            problems.append(f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}")
        if self.long_text not in POLICIES:
            problems.append(f"long_text must be one of {', '.join(POLICIES)}, got {self.long_text!r}")
        if not 0.0 <= self.threshold <= 1.0:
            problems.append(f"threshold must be between 0 and 1, got {self.threshold}")
        if not 0 <= self.port <= 65535:
            problems.append(f"port must be between 0 and 65535, got {self.port}")
        for name in ("max_batch_tokens", "max_batch_rows", "queue", "max_inputs", "max_body_bytes"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_wait_ms < 0:
            problems.append(f"max_wait_ms must be zero or more, got {self.max_wait_ms}")
        if self.max_inputs > self.queue:
            problems.append(
                f"max_inputs ({self.max_inputs}) cannot exceed the queue ({self.queue}): "
                "such a request could never be admitted"
            )
        if self.api_key is not None and not self.api_key.strip():
            problems.append("the API key is empty")
        if not is_loopback(self.host) and not self.api_key and not self.insecure:
            problems.append(
                f"binding to {self.host} exposes the service beyond this machine: give --api-key KEY "
                "(or set CREST_EDGE_API_KEY), or --insecure to serve it without one"
            )
        if problems:
            raise CrestEdgeError("; ".join(problems))
        return self


def is_loopback(host: str) -> bool:
    """Only an address that cannot be reached from another machine counts ("localhost" included)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything

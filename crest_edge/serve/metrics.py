"""Prometheus metrics, one registry per app (two apps in one process never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ENDPOINTS = ("/v1/moderations", "/classify", "/predict", "/health", "/info", "/metrics", "/", "other")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("crest_edge_requests", "HTTP requests answered", ["endpoint", "status"], registry=r)
        self.latency = Histogram(
            "crest_edge_request_duration_seconds",
            "Time from request to response",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.texts = Counter("crest_edge_texts", "Texts classified, by the verdict served", ["label"], registry=r)
        self.batch_rows = Histogram(
            "crest_edge_batch_size", "Sequences per engine call", buckets=BATCH_BUCKETS, registry=r
        )
        self.batch_tokens = Histogram(
            "crest_edge_batch_padded_tokens",
            "Rows x longest row per engine call",
            buckets=(64, 256, 1024, 2048, 4096, 8192, 16384, 32768),
            registry=r,
        )
        self.batch_seconds = Histogram(
            "crest_edge_batch_duration_seconds", "Time of one engine call", buckets=LATENCY_BUCKETS, registry=r
        )
        self.queue_depth = Gauge("crest_edge_queue_depth", "Texts admitted and not yet answered", registry=r)
        self.errors = Counter("crest_edge_errors", "Failures, by kind", ["kind"], registry=r)
        for kind in ("engine", "rejected", "bad_request", "unauthorized", "internal"):
            self.errors.labels(kind)  # present at 0 from the start, so a rate() has a baseline
        self.ready = Gauge("crest_edge_ready", "1 once the model is loaded", registry=r)

    def observe_batch(self, rows: int, padded_tokens: int, seconds: float) -> None:
        self.batch_rows.observe(rows)
        self.batch_tokens.observe(padded_tokens)
        self.batch_seconds.observe(seconds)

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        endpoint = path if path in ENDPOINTS else "other"
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if status == 401:
            self.errors.labels("unauthorized").inc()
        elif 400 <= status < 500:
            self.errors.labels("bad_request").inc()
        elif status == 500:
            self.errors.labels("internal").inc()  # 503s are counted where they arise: rejected or engine

    def render(self) -> bytes:
        return generate_latest(self.registry)

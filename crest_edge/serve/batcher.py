"""Micro-batching: texts from concurrent requests share one engine call, answered one by one.

Requests put their texts on a bounded queue from the event loop; one worker thread takes the
oldest texts first and closes a batch when the next text would push its padded size (rows x
longest row) past `max_batch_tokens`, or when the oldest text in it has waited `max_wait_s`; the
engine call runs on that thread, off the event loop. A text that waited while the engine was busy
goes into the next call without further waiting. A full queue refuses a request at once.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence

from .policy import Outcome


class QueueFull(Exception):
    """The queue cannot take this request's texts now: answer 503 with Retry-After."""


@dataclasses.dataclass(eq=False)
class _Item:
    text: str
    want_logits: bool
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    arrival: float
    tokens: int = 0  # the full id sequence's length, counted on the worker thread
    rows: int = 0  # sequences the engine will see for it (windows)


class MicroBatcher:
    def __init__(
        self,
        run: Callable[[list[str], list[bool]], list[Outcome]],
        count: Callable[[str], tuple[int, int]],
        *,
        max_batch_tokens: int,
        max_wait_s: float,
        capacity: int,
        max_rows: int,
        max_length: int,
        on_batch: Callable[[int, int, float], None] = lambda rows, tokens, seconds: None,
    ):
        self._run, self._count, self._on_batch = run, count, on_batch
        self.max_batch_tokens, self.max_wait_s, self.capacity = max_batch_tokens, max_wait_s, capacity
        self.max_rows, self.max_length = max_rows, max_length
        self._cond = threading.Condition()
        self._queue: collections.deque[_Item] = collections.deque()  # shared with the event loop
        self._staged: collections.deque[_Item] = collections.deque()  # worker only: counted, not yet run
        self._pending = 0  # texts admitted and not yet answered (queue + staged + running)
        self._closing = False
        self._thread = threading.Thread(target=self._work, name="crest-edge-batcher", daemon=True)

    @property
    def depth(self) -> int:
        """Texts admitted and not answered yet."""
        return self._pending

    def start(self) -> None:
        self._thread.start()

    async def submit(self, texts: Sequence[str], want_logits: bool = False) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        items = [_Item(t, want_logits, loop.create_future(), loop, now) for t in texts]
        with self._cond:
            if self._closing:
                raise QueueFull("the service is shutting down")
            if self._pending + len(items) > self.capacity:
                raise QueueFull(f"{self._pending} texts are waiting (queue {self.capacity})")
            self._pending += len(items)
            self._queue.extend(items)
            self._cond.notify()
        if len(items) == 1:
            return [await items[0].future]
        return await asyncio.gather(*(item.future for item in items))

    def close(self, timeout: float | None = None) -> None:
        """Finish every admitted text, then stop the worker."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- worker thread -------------------------------------------------------------------------

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            batch.sort(key=lambda item: item.tokens)
            started = time.perf_counter()
            try:
                outcomes = self._run([i.text for i in batch], [i.want_logits for i in batch])
            except BaseException as exc:  # policy.run_texts answers engine errors: this is a bug, not a 500
                outcomes = [Outcome(None, f"internal error: {type(exc).__name__}: {exc}")] * len(batch)
            rows = sum(i.rows for i in batch)
            self._on_batch(rows, rows * min(batch[-1].tokens, self.max_length), time.perf_counter() - started)
            with self._cond:
                self._pending -= len(batch)
            answers: dict[asyncio.AbstractEventLoop, list] = {}
            for item, outcome in zip(batch, outcomes):
                if outcome.verdict is None:
                    outcome = dataclasses.replace(outcome, tokens=item.tokens)
                answers.setdefault(item.loop, []).append((item.future, outcome))
            for loop, pairs in answers.items():  # one wake-up of the event loop per batch, not per text
                loop.call_soon_threadsafe(_resolve, pairs)

    def _next_batch(self) -> list[_Item] | None:
        while True:
            with self._cond:
                while not self._queue and not self._staged and not self._closing:
                    self._cond.wait()
                if self._closing and not self._queue and not self._staged:
                    return None
                self._staged.extend(self._queue)
                self._queue.clear()
            self._count_staged()
            if not self._staged:
                continue
            batch, full = self._pack()
            wait = self._staged[0].arrival + self.max_wait_s - time.monotonic()
            if full or wait <= 0 or self._closing:
                for _ in batch:
                    self._staged.popleft()
                return batch
            with self._cond:
                if not self._queue and not self._closing:
                    self._cond.wait(wait)

    def _count_staged(self) -> None:
        """Count tokens outside the lock (the tokenizer is Python); drop texts nobody waits for."""
        kept = collections.deque()
        for item in self._staged:
            if item.future.done():  # the client went away; its request was cancelled
                with self._cond:
                    self._pending -= 1
                continue
            if not item.rows:
                try:
                    item.tokens, item.rows = self._count(item.text)
                except Exception:  # the engine call will meet it, and the policy answer it
                    item.tokens, item.rows = 1, 1
            kept.append(item)
        self._staged = kept

    def _pack(self) -> tuple[list[_Item], bool]:
        """The oldest texts that fit the budget (always at least one); full: the next one does not."""
        batch, rows, longest = [], 0, 0
        for item in self._staged:
            new_rows, new_longest = rows + item.rows, max(longest, min(item.tokens, self.max_length))
            if batch and (new_rows * new_longest > self.max_batch_tokens or new_rows > self.max_rows):
                return batch, True
            batch.append(item)
            rows, longest = new_rows, new_longest
        return batch, rows * longest >= self.max_batch_tokens or rows >= self.max_rows


def _resolve(pairs: list[tuple[asyncio.Future, Outcome]]) -> None:
    for future, outcome in pairs:
        if not future.done():  # a cancelled request (its client went away) has no one to tell
            future.set_result(outcome)

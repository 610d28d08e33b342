"""Guards in front of the app: a request-body limit enforced before any byte is read, HEAD
answered like GET, sign-in rate limits (per address and overall), and a bounded hashing pool.

The limits are per worker process: a reverse proxy in front should limit too (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

PAGE_413 = (
    b"<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Too large - "
    b"frontdoor</title></head><body><main><h1>The request is too large</h1><p>Forms in this "
    b"app are small: nothing was read or stored.</p></main></body></html>"
)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` with 413, by its Content-Length before
    reading anything, or as soon as a chunked body passes the limit."""

    def __init__(self, app, *, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _send_413(send)
            return
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except _TooLarge:
            if not started:
                await _send_413(send)


async def _send_413(send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(PAGE_413)).encode()),
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": PAGE_413})


class HeadAsGet:
    """ASGI middleware: HEAD is answered as GET would be, headers only."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class SignInLimits:
    """Moving one-minute windows: per address and for all addresses together."""

    def __init__(self, per_ip: int, overall: int):
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_ip = RateLimitItemPerMinute(per_ip)
        self.overall = RateLimitItemPerMinute(overall)

    def retry_after(self, ip: str) -> int | None:
        """None to go ahead (the attempt is counted); else seconds to wait."""
        for item, key in ((self.overall, "all"), (self.per_ip, ip)):
            if not self.limiter.test(item, "sign-in", key):
                reset = self.limiter.get_window_stats(item, "sign-in", key).reset_time
                return max(1, int(reset - _now()) + 1)
        self.limiter.hit(self.overall, "sign-in", "all")
        self.limiter.hit(self.per_ip, "sign-in", ip)
        return None


def _now() -> float:
    import time

    return time.time()


class Busy(Exception):
    """The hashing pool's queue is full: the caller answers 503 with Retry-After."""


class HashPool:
    """Password hashing on its own threads, with at most ``workers + queue`` jobs admitted, so a
    sign-in flood waits here (or is turned away) and never holds the request threads."""

    def __init__(self, workers: int, queue: int):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self.slots = threading.BoundedSemaphore(workers + queue)

    async def run(self, fn, *args):
        if not self.slots.acquire(blocking=False):
            raise Busy
        try:
            return await asyncio.wrap_future(self.executor.submit(fn, *args))
        finally:
            self.slots.release()

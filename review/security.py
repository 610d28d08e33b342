"""Security headers, CSRF tokens and the app's secret key.

Pages carry no scripts, so the Content Security Policy allows none; every form posts back to
the app and carries a CSRF token (from the session once logged in, HMAC-bound to a cookie before).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from frontdoor.settings import Settings
from frontdoor.settings.local_secret import demo_secret_file

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Governance reports may be HTML with inline styles and embedded images; they never run scripts.
REPORT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"

BASE_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: security headers on every response; pages are never cached."""

    def __init__(self, app, *, hsts: bool = False):
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in BASE_HEADERS.items()]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope.get("path", "").startswith("/static/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                if not is_static and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def secret_key(settings: Settings) -> bytes:
    """The configured secret; demo mode generates one and keeps it under paths.keys."""
    if settings.review.secret_key is not None:
        value = settings.review.secret_key.get_secret_value()
        if len(value) < 32:
            raise RuntimeError("review.secret_key must be at least 32 characters long.")
        return value.encode()
    if not settings.demo_mode:
        raise RuntimeError(
            "No review.secret_key configured (FRONTDOOR_REVIEW__SECRET_KEY); "
            "only demo mode may generate a local one."
        )
    return demo_secret_file(settings.resolve(settings.paths.keys), "review-secret.key")


def login_csrf_pair(secret: bytes) -> tuple[str, str]:
    """(cookie value, form value) for the login form, before any session exists."""
    nonce = secrets.token_urlsafe(24)
    return nonce, login_csrf_for(secret, nonce)


def login_csrf_for(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, f"login:{nonce}".encode(), hashlib.sha256).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))

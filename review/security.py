"""Security headers, CSRF tokens and the app's secret key.

Pages carry no scripts, so the Content Security Policy allows none; every form posts back to
the app and carries a CSRF token (from the session once logged in, HMAC-bound to a cookie before).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

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
            self.headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )

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


def login_csrf_pair(secret: bytes, now: float | None = None) -> tuple[str, str]:
    """(cookie value, form value) for the sign-in form, before any session exists.

    The form value carries when it was issued and an HMAC binding that time to the cookie's
    nonce: it expires (``login_token_valid``) and the app spends each nonce once.
    """
    nonce = secrets.token_urlsafe(24)
    issued = int(now if now is not None else time.time())
    return nonce, f"{issued}.{login_csrf_for(secret, nonce, issued)}"


def login_csrf_for(secret: bytes, nonce: str, issued: int) -> str:
    return hmac.new(secret, f"login:{nonce}:{issued}".encode(), hashlib.sha256).hexdigest()


def login_token_valid(
    secret: bytes, nonce: str, form_value: str, max_minutes: int, now: float | None = None
) -> bool:
    """The form value matches the cookie's nonce and was issued less than max_minutes ago."""
    issued_text, _, mac = (form_value or "").partition(".")
    if not nonce or len(nonce) > 64 or not issued_text.isdigit() or len(issued_text) > 12:
        return False
    issued = int(issued_text)
    age = (now if now is not None else time.time()) - issued
    if not 0 <= age <= max_minutes * 60:
        return False
    return tokens_match(login_csrf_for(secret, nonce, issued), mac)


def same_origin(headers, scheme: str) -> bool:
    """A state-changing request must come from the app's own pages.

    Browsers that send Sec-Fetch-Site (all current ones) are judged by it: it cannot be set by
    a page. Without it, an Origin header must name this host. ``Origin: null`` is what Chromium
    sends from our own forms under ``Referrer-Policy: no-referrer``, so it is not judged alone.
    Clients sending neither (scripts) still need the CSRF token.
    """
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return True
    return origin == f"{scheme}://{headers.get('host', '')}"


def cookie_name(settings: Settings, base: str) -> str:
    """``__Host-`` names over HTTPS (the browser then insists on Secure, Path=/ and no Domain).
    Over plain HTTP (the loopback demo) browsers refuse ``__Host-`` cookies, so the plain name."""
    return f"__Host-{base}" if settings.review.secure_cookies else base


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))

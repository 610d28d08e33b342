"""Deny by default: every route declares who may use it, or nobody may.

``@requires("case")`` names the permission a route needs (see ``auth.PERMISSIONS``);
``@public`` marks the few routes open to anyone (login, health). A route with neither is refused
to everyone, including admin. Unsafe methods also need the session's CSRF token.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from frontdoor.review import auth
from frontdoor.review.security import cookie_name, same_origin, tokens_match

SESSION_COOKIE = "fd_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PURGE_EVERY_SECONDS = 60.0


class NotLoggedIn(Exception):
    def __init__(self, expired: bool = False):
        self.expired = expired


class Forbidden(Exception):
    def __init__(self, reason: str = "Your role does not give access to this page."):
        self.reason = reason


def requires(permission: str) -> Callable:
    def mark(endpoint: Callable) -> Callable:
        endpoint.permission = permission
        return endpoint

    return mark


def public(endpoint: Callable) -> Callable:
    endpoint.public = True
    return endpoint


def route_permission(endpoint: Callable) -> str | None:
    """The permission a route needs; "public" for open routes; None if it declares nothing."""
    if getattr(endpoint, "public", False):
        return "public"
    return getattr(endpoint, "permission", None)


async def guard(request: Request) -> None:
    """App-wide dependency: checks the session, the role and (for POSTs) the CSRF token."""
    endpoint = request.scope.get("endpoint")
    needed = route_permission(endpoint) if endpoint is not None else None
    app_state = request.app.state
    if request.method in UNSAFE_METHODS and not same_origin(request.headers, request.url.scheme):
        raise Forbidden("This form was sent from another site, so it was refused.")
    await _purge_now_and_then(app_state)
    token = request.cookies.get(cookie_name(app_state.settings, SESSION_COOKIE))
    session = (
        await _run(auth.get_session, app_state.settings, app_state.engine, token) if token else None
    )
    request.state.session = session
    if needed == "public":
        return
    if session is None:
        raise NotLoggedIn(expired=bool(token))
    if needed is None or not session.user.may(needed):
        raise Forbidden()
    if request.method in UNSAFE_METHODS:
        form = await request.form()
        if not tokens_match(session.csrf_token, form.get("csrf_token")):
            raise Forbidden("The form's security token did not match. Go back and try again.")


async def _purge_now_and_then(app_state) -> None:
    """Expired sessions and spent sign-in tokens go at most once a minute per process."""
    now = time.monotonic()
    if now - getattr(app_state, "last_purge", -PURGE_EVERY_SECONDS) < PURGE_EVERY_SECONDS:
        return
    app_state.last_purge = now
    await _run(auth.expire_sessions, app_state.settings, app_state.engine)


async def _run(fn, *args):
    return await run_in_threadpool(fn, *args)

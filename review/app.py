"""The review app: ``create_app(settings)`` builds it; ``frontdoor serve`` runs it with uvicorn."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontdoor import REVIEW_NOTICE
from frontdoor.review import store
from frontdoor.review.guard import SESSION_COOKIE, Forbidden, NotLoggedIn, guard
from frontdoor.review.history import history_source
from frontdoor.review.limits import BodyLimit, HashPool, HeadAsGet, SignInLimits
from frontdoor.review.routes import error_page, not_allowed, router
from frontdoor.review.security import SecurityHeaders, cookie_name, secret_key
from frontdoor.settings import Settings, load_settings

HERE = Path(__file__).parent


def create_app(settings: Settings, *, preload: bool = False) -> FastAPI:
    """The app for these settings; creates or upgrades the database schema (alembic) first.

    ``preload`` reads the canonical tables now rather than at the first case page (for serving).
    """
    engine = store.ready_engine(settings)
    app = FastAPI(
        title="frontdoor review",
        description=REVIEW_NOTICE,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(guard)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.secret = secret_key(settings)
    app.state.history = history_source(settings)
    review = settings.review
    app.state.sign_in_limits = SignInLimits(
        review.sign_in_per_ip_per_minute, review.sign_in_global_per_minute
    )
    app.state.hash_pool = HashPool(review.hash_workers, review.hash_queue)
    app.state.session_cookie = cookie_name(settings, SESSION_COOKIE)
    if preload:
        app.state.history.index()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["notice"] = REVIEW_NOTICE
    templates.env.auto_reload = False  # templates are part of the release, not edited live
    app.state.templates = templates
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(NotLoggedIn)
    async def _login_first(request: Request, exc: NotLoggedIn):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            extra = "&expired=1" if exc.expired else ""
            response = RedirectResponse(f"/login?next={quote(target)}{extra}", status_code=303)
        else:
            response = not_allowed(request, 401, "Please sign in again.")
        if exc.expired:
            response.delete_cookie(app.state.session_cookie, path="/")
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return not_allowed(request, 403, exc.reason)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return error_page(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_page(request, 422)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError):
        # the database could not be reached in time (SQLite's write lock under a flood): say
        # "busy, try again" rather than fail; the request changed nothing
        response = error_page(request, 503)
        response.headers["retry-after"] = "5"
        return response

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception):  # logged by uvicorn; no traceback shown
        return error_page(request, 500)

    # outermost last: the body limit sees the request before anything else reads it
    app.add_middleware(SecurityHeaders, hsts=settings.review.secure_cookies)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, max_bytes=settings.review.max_body_bytes)
    return app


def app_from_config() -> FastAPI:
    """Factory for uvicorn worker processes: settings from ``load_settings()`` (config file and
    ``FRONTDOOR_*`` variables, which ``frontdoor serve`` hands down to its workers)."""
    return create_app(load_settings(), preload=True)

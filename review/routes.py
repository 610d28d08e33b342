"""The pages: login, queue, case (with decision and re-identification), reports, summary, admin.

Every handler is marked ``@requires(<permission>)`` or ``@public`` (see ``review.guard``).
Handlers are plain functions (run in FastAPI's thread pool) over ``review.store``.
"""

from __future__ import annotations

import mimetypes
import secrets
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from frontdoor import REVIEW_NOTICE
from frontdoor.records import reidentification
from frontdoor.review import auth, store
from frontdoor.review.guard import SESSION_COOKIE, public, requires
from frontdoor.review.present import (
    MODEL_CANNOT_SEE,
    band_class,
    band_meaning,
    family_label,
    label_meaning,
    waited,
)
from frontdoor.review.schema import ACTIONS
from frontdoor.review.security import REPORT_CSP, login_csrf_for, login_csrf_pair, tokens_match

router = APIRouter()
LOGIN_COOKIE = "fd_login"
REPORT_SUFFIXES = {".html", ".md", ".json", ".csv", ".pdf", ".png", ".txt"}
MIN_PURPOSE_CHARS = 10


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    state = request.app.state
    session = getattr(request.state, "session", None)
    base = {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "notice": REVIEW_NOTICE,
        "band_class": band_class,
        "family_label": family_label,
        "settings": state.settings,
    }
    return state.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code
    )


def _landing(user: auth.User) -> str:
    return "/queue" if user.may("queue") else "/reports"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


# --- public --------------------------------------------------------------------------------


@router.get("/")
@public
def home(request: Request):
    session = request.state.session
    return RedirectResponse(_landing(session.user) if session else "/login", status_code=303)


@router.get("/healthz")
@public
def healthz():
    return {"status": "ok"}


@router.get("/login")
@public
def login_page(request: Request, next: str | None = None, expired: int = 0, out: int = 0):
    if request.state.session is not None:
        return RedirectResponse(_landing(request.state.session.user), status_code=303)
    return _login_form(request, next=_safe_next(next), expired=bool(expired), out=bool(out))


def _login_form(request: Request, status_code: int = 200, **context) -> HTMLResponse:
    nonce, form_token = login_csrf_pair(request.app.state.secret)
    response = render(
        request, "login.html", status_code=status_code, login_token=form_token, **context
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.review.secure_cookies,
    )
    return response


@router.post("/login")
@public
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    login_token: str = Form(""),
    next: str = Form(""),
):
    state = request.app.state
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not tokens_match(login_csrf_for(state.secret, nonce), login_token):
        return _login_form(
            request, status_code=400, error="The sign-in form expired. Please try again."
        )
    user = auth.authenticate(state.settings, state.engine, username, password)
    if user is None:
        return _login_form(
            request,
            status_code=401,
            error="The username or password is not right, or the account is locked.",
            username=username[:64],
            next=_safe_next(next),
        )
    token = auth.start_session(state.engine, user)
    response = RedirectResponse(_safe_next(next) or _landing(user), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=state.settings.review.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
@requires("session")
def logout(request: Request):
    state = request.app.state
    session = request.state.session
    auth.end_session(state.engine, request.cookies.get(SESSION_COOKIE, ""))
    store.audit(
        state.engine,
        user_id=session.user.id,
        username=session.user.username,
        role=session.user.role,
        action="logout",
    )
    response = RedirectResponse("/login?out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the queue -----------------------------------------------------------------------------


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/queue")
@requires("queue")
def queue_page(
    request: Request,
    band: str = "",
    team: str = "",
    date_from: str = "",
    date_to: str = "",
    family: str = "",
    status: str = "",
    page: int = 1,
):
    state = request.app.state
    settings = state.settings
    filters = store.QueueFilters(
        band=band if band in settings.review.flagged_bands else None,
        team=team if team in settings.review.teams else None,
        date_from=_parse_date(date_from),
        date_to=_parse_date(date_to),
        family=family or None,
        status=status if status in store.STATUSES else None,
        page=max(1, page),
    )
    items, total = store.queue(settings, state.engine, filters)
    count = store.day_count(settings, state.engine)
    now = store.utcnow()
    pages = max(1, -(-total // settings.review.page_size))
    query = {
        k: v
        for k, v in {
            "band": band,
            "team": team,
            "date_from": date_from,
            "date_to": date_to,
            "family": family,
            "status": status,
        }.items()
        if v
    }
    return render(
        request,
        "queue.html",
        items=items,
        total=total,
        page=filters.page,
        pages=pages,
        query="&".join(f"{k}={quote(v)}" for k, v in query.items()),
        filters=filters,
        raw=query,
        families=store.reason_families(settings, state.engine),
        count=count,
        waited=lambda item: waited(item.scored_at, now),
        statuses=store.STATUSES,
        label_meaning=label_meaning(settings.models.primary_label),
    )


# --- the case page -------------------------------------------------------------------------


def _case_context(request: Request, decision_id: str) -> dict | None:
    state = request.app.state
    settings = state.settings
    case = store.get_case(settings, state.engine, decision_id)
    if case is None:
        return None
    score = case.score
    history = state.history.history(score["child_id"], score["referral_date"])
    raising = sorted(
        [r for r in case.reasons if r.direction == "raises"], key=lambda r: -abs(r.contribution)
    )
    lowering = sorted(
        [r for r in case.reasons if r.direction == "lowers"], key=lambda r: -abs(r.contribution)
    )
    return {
        "case": case,
        "score": score,
        "raising": raising,
        "lowering": lowering,
        "history": history,
        "band_meaning": band_meaning(settings, score["band"]),
        "label_meaning": label_meaning(score["label"]),
        "other_scores": [{**s, "meaning": label_meaning(s["label"])} for s in case.other_scores],
        "cannot_see": MODEL_CANNOT_SEE,
        "actions": ACTIONS,
        "form_token": secrets.token_urlsafe(24),
        "waited": waited(score["scored_at"], store.utcnow()),
        "latest": case.history[-1] if case.history else None,
        "action_label": lambda key: ACTIONS.get(key, key),
        "reidentify_available": True,
    }


@router.get("/cases/{decision_id}")
@requires("case")
def case_page(request: Request, decision_id: str, recorded: int = 0):
    state = request.app.state
    context = _case_context(request, decision_id)
    if context is None:
        return render(request, "not_found.html", status_code=404, what="case")
    user = request.state.session.user
    store.audit(
        state.engine,
        user_id=user.id,
        username=user.username,
        role=user.role,
        action="case_view",
        target=decision_id,
    )
    return render(request, "case.html", recorded=bool(recorded), **context)


@router.post("/cases/{decision_id}/decisions")
@requires("decide")
def decide(
    request: Request,
    decision_id: str,
    score_id: int = Form(...),
    agrees: str = Form(""),
    action: str = Form(""),
    rationale: str = Form(""),
    form_token: str = Form(""),
):
    state = request.app.state
    user = request.state.session.user
    try:
        store.record_decision(
            state.engine,
            decision_id=decision_id,
            score_id=score_id,
            user_id=user.id,
            username=user.username,
            role=user.role,
            agrees={"yes": True, "no": False}.get(agrees),
            action=action,
            rationale=rationale,
            form_token=form_token,
        )
    except LookupError:
        return render(request, "not_found.html", status_code=404, what="case")
    except store.DecisionError as err:
        context = _case_context(request, decision_id)
        if context is None:
            return render(request, "not_found.html", status_code=404, what="case")
        context.update(form_token=form_token or context["form_token"])
        return render(
            request,
            "case.html",
            status_code=422,
            error=str(err),
            entered={"agrees": agrees, "action": action, "rationale": rationale},
            **context,
        )
    return RedirectResponse(f"/cases/{quote(decision_id)}?recorded=1", status_code=303)


@router.post("/cases/{decision_id}/reidentify")
@requires("reidentify")
def reidentify(request: Request, decision_id: str, purpose: str = Form("")):
    state = request.app.state
    user = request.state.session.user
    context = _case_context(request, decision_id)
    if context is None:
        return render(request, "not_found.html", status_code=404, what="case")
    purpose = purpose.strip()
    if len(purpose) < MIN_PURPOSE_CHARS:
        return render(
            request,
            "case.html",
            status_code=422,
            reid_error=f"Say why you need the council's child id (at least {MIN_PURPOSE_CHARS} characters).",
            **context,
        )
    child = context["score"]["child_id"]
    outcome = "no"
    la_id = None
    try:
        la_id = reidentification.lookup(state.settings, child, who=user.username)
        outcome = "yes" if la_id else "no"
    except Exception as err:  # the boundary failing must not hide that someone asked
        outcome = f"error ({type(err).__name__})"
    store.audit(
        state.engine,
        user_id=user.id,
        username=user.username,
        role=user.role,
        action="reidentify",
        target=decision_id,
        detail=f"child={child}; found={outcome}; purpose={purpose[:500]}",
    )
    return render(request, "case.html", reidentified=la_id or "", reid_done=True, **context)


# --- reports and summary (no case data) ----------------------------------------------------


def _reports_root(request: Request) -> Path:
    settings = request.app.state.settings
    return settings.resolve(settings.paths.reports).resolve()


@router.get("/reports")
@requires("reports")
def reports_page(request: Request):
    root = _reports_root(request)
    files = []
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if (
                path.is_file()
                and path.suffix.lower() in REPORT_SUFFIXES
                and not path.name.startswith(".")
            ):
                stat = path.stat()
                files.append(
                    {
                        "path": path.relative_to(root).as_posix(),
                        "size_kb": max(1, round(stat.st_size / 1024)),
                        "modified": datetime.fromtimestamp(stat.st_mtime).strftime(
                            "%d %b %Y %H:%M"
                        ),
                    }
                )
    return render(request, "reports.html", files=files, root_exists=root.is_dir())


@router.get("/reports/files/{relative:path}")
@requires("reports")
def report_file(request: Request, relative: str):
    root = _reports_root(request)
    target = (root / relative).resolve()
    if (
        not target.is_relative_to(root)
        or not target.is_file()
        or target.suffix.lower() not in REPORT_SUFFIXES
        or any(part.startswith(".") for part in target.relative_to(root).parts)
    ):
        return render(request, "not_found.html", status_code=404, what="report")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix.lower() == ".md":
        media = "text/plain; charset=utf-8"
    headers = {"content-security-policy": REPORT_CSP}
    return FileResponse(target, media_type=media, headers=headers)


@router.get("/summary")
@requires("summary")
def summary_page(request: Request):
    state = request.app.state
    return render(
        request, "summary.html", summary=store.decision_summary(state.settings, state.engine)
    )


# --- admin ---------------------------------------------------------------------------------


@router.get("/admin/users")
@requires("users")
def users_page(request: Request):
    return render(
        request,
        "users.html",
        users=auth.list_users(request.app.state.engine),
        labels=auth.ROLE_LABELS,
    )


@router.get("/admin/audit")
@requires("audit")
def audit_page(request: Request, action: str = "", page: int = 1):
    rows, total = store.read_audit(request.app.state.engine, action=action or None, page=page)
    pages = max(1, -(-total // 100))
    return render(
        request,
        "audit.html",
        rows=rows,
        total=total,
        page=max(1, page),
        pages=pages,
        action=action,
        actions=[
            "login",
            "login_failed",
            "logout",
            "case_view",
            "decision",
            "reidentify",
            "user_add",
        ],
    )


def not_allowed(request: Request, status_code: int, reason: str) -> Response:
    return render(request, "forbidden.html", status_code=status_code, reason=reason)

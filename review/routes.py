"""The pages: login, queue, case (with decision and re-identification), reports, summary, admin.

Every handler is marked ``@requires(<permission>)`` or ``@public`` (see ``review.guard``).
Handlers are plain functions (run in FastAPI's thread pool) over ``review.store``.
"""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from frontdoor import REVIEW_NOTICE
from frontdoor.records import reidentification
from frontdoor.records.disclosure import RESTRICTED, restricted_dir
from frontdoor.review import auth, oidc, params, store
from frontdoor.review.band_outcomes import band_outcome
from frontdoor.review.guard import public, requires
from frontdoor.review.limits import Busy
from frontdoor.review.present import (
    MODEL_CANNOT_SEE,
    age_text,
    backtest_text,
    band_class,
    band_meaning,
    effect_text,
    family_label,
    label_meaning,
    london,
    reason_text,
    waited,
)
from frontdoor.review.schema import ACTIONS
from frontdoor.review.security import (
    REPORT_CSP,
    cookie_name,
    login_csrf_pair,
    login_token_valid,
)

router = APIRouter()
LOGIN_COOKIE = "fd_login"
REPORT_SUFFIXES = {".html", ".md", ".json", ".csv", ".pdf", ".png", ".txt"}
MAX_ID_CHARS = 128
ERRORS = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    404: ("Page not found", "There is no such page. Check the address, or go to your start page."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "The request is too large."),
    500: ("Sorry, something went wrong", "Something went wrong on our side. Please try again."),
    422: ("There is a problem", "Some of what was sent is not valid. Go back and try again."),
    429: ("Too many attempts", "Too many attempts. Wait a minute, then try again."),
    502: ("Sign-in service unavailable", "The council's sign-in service cannot be reached."),
    503: ("The service is busy", "The service is busy. Wait a few seconds, then try again."),
}


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    state = request.app.state
    session = getattr(request.state, "session", None)
    base = {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "notice": REVIEW_NOTICE,
        "band_class": band_class,
        "family_label": family_label,
        "london": london,
        "reason_text": reason_text,
        "effect_text": effect_text,
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
def login_page(request: Request, next: str = "", expired: str = "", out: str = ""):
    if request.state.session is not None:
        return RedirectResponse(_landing(request.state.session.user), status_code=303)
    return _login_form(
        request, next=_safe_next(next[:2000]), expired=expired == "1", out=out == "1"
    )


def _login_form(request: Request, status_code: int = 200, **context) -> HTMLResponse:
    state = request.app.state
    nonce, form_token = login_csrf_pair(state.secret)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        login_token=form_token,
        oidc=bool(state.settings.review.oidc_issuer),
        **context,
    )
    response.set_cookie(
        cookie_name(state.settings, LOGIN_COOKIE),
        nonce,
        max_age=state.settings.review.login_token_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=state.settings.review.secure_cookies,
        path="/",
    )
    return response


def client_ip(request: Request) -> str:
    """The peer address (the proxy's own unless review.forwarded_allow_ips trusts it)."""
    return request.client.host if request.client else "unknown"


def too_many(request: Request, retry_after: int, message: str) -> HTMLResponse:
    response = render(
        request, "error.html", status_code=429, heading="Too many attempts", message=message
    )
    response.headers["retry-after"] = str(retry_after)
    return response


BUSY_RETRY_SECONDS = 5


@router.post("/login")
@public
async def login(request: Request):
    """Rate-limited; the password check runs in the hashing pool, never on a request thread."""
    state = request.app.state
    settings = state.settings
    if not settings.review.local_passwords:
        return error_page(request, 404)
    ip = client_ip(request)
    wait = state.sign_in_limits.retry_after(ip)
    if wait is not None:
        # the pause holds a flooding client without using the CPU (docs/review-app.md)
        await asyncio.sleep(settings.review.refused_sign_in_delay_seconds)
        return too_many(
            request, wait, f"Too many sign-in attempts. Wait {wait} seconds, then try again."
        )
    form = await request.form()
    username, password = str(form.get("username", ""))[:256], str(form.get("password", ""))
    next_ = _safe_next(str(form.get("next", ""))[:2000])
    nonce = request.cookies.get(cookie_name(settings, LOGIN_COOKIE), "")
    fresh = login_token_valid(
        state.secret, nonce, str(form.get("login_token", "")), settings.review.login_token_minutes
    )
    if not fresh or not await run_in_threadpool(auth.spend_login_nonce, state.engine, nonce):
        return _login_form(
            request, status_code=400, error="The sign-in form expired. Please try again."
        )
    attempt = auth.Attempt(ip=ip, key=state.secret)
    try:
        user = await state.hash_pool.run(
            auth.authenticate, settings, state.engine, username, password[:1024], attempt
        )
    except Busy:
        # the hashing pool's queue is full: turned away at once, never an unbounded wait
        busy = error_page(
            request, 503, "Too many people are signing in. Wait a few seconds, then try again."
        )
        busy.headers["retry-after"] = str(BUSY_RETRY_SECONDS)
        return busy
    if user is None:
        return _login_form(
            request,
            status_code=401,
            error="The username or password is not right, or the account is locked.",
            username=username[:64],
            next=next_,
        )
    return await run_in_threadpool(signed_in, request, user, next_)


def signed_in(request: Request, user: auth.User, next_: str | None) -> Response:
    """Start a session (and purge expired ones); the cookie is __Host- prefixed over HTTPS."""
    state = request.app.state
    auth.expire_sessions(state.settings, state.engine)
    token = auth.start_session(state.engine, user)
    response = RedirectResponse(next_ or _landing(user), status_code=303)
    response.set_cookie(
        state.session_cookie,
        token,
        httponly=True,
        samesite="strict",
        secure=state.settings.review.secure_cookies,
        path="/",
    )
    response.delete_cookie(cookie_name(state.settings, LOGIN_COOKIE), path="/")
    return response


OIDC_COOKIE = "fd_oidc"


@router.get("/login/oidc")
@public
def oidc_start(request: Request, next: str = ""):
    """Off to the council's identity provider (authorization code + PKCE)."""
    state = request.app.state
    settings = state.settings
    if not oidc.configured(settings):
        return error_page(request, 404)
    wait = state.sign_in_limits.retry_after(client_ip(request))
    if wait is not None:
        return too_many(request, wait, f"Too many sign-in attempts. Wait {wait} seconds.")
    try:
        url, flow = oidc.start(
            settings, state.secret, str(request.base_url), _safe_next(next[:2000]) or ""
        )
    except (oidc.OidcError, httpx.HTTPError, ValueError):
        return error_page(request, 502, "The council's sign-in service cannot be reached.")
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider sends the browser back with a cross-site navigation
    response.set_cookie(
        cookie_name(settings, OIDC_COOKIE),
        flow,
        max_age=oidc.FLOW_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.review.secure_cookies,
        path="/",
    )
    return response


@router.get("/login/oidc/callback")
@public
def oidc_callback(request: Request):
    state = request.app.state
    settings = state.settings
    if not oidc.configured(settings):
        return error_page(request, 404)
    query = {k: request.query_params.get(k, "")[:4096] for k in ("code", "state", "error")}
    try:
        user, next_ = oidc.finish(
            settings,
            state.engine,
            state.secret,
            request.cookies.get(cookie_name(settings, OIDC_COOKIE), ""),
            str(request.base_url),
            query,
        )
    except (oidc.OidcError, httpx.HTTPError) as err:
        message = str(err) if isinstance(err, oidc.OidcError) else "The sign-in service failed."
        return render(
            request, "login.html", status_code=401, error=message, login_token="", oidc=True
        )
    auth.expire_sessions(settings, state.engine)
    token = auth.start_session(state.engine, user)
    # a page, not a redirect: after a cross-site redirect chain the browser would withhold
    # the SameSite=Strict session cookie from the next request
    target = _safe_next(next_) or _landing(user)
    response = render(request, "signed_in.html", target=target)
    response.set_cookie(
        state.session_cookie,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.review.secure_cookies,
        path="/",
    )
    response.delete_cookie(cookie_name(settings, OIDC_COOKIE), path="/")
    return response


@router.post("/logout")
@requires("session")
def logout(request: Request):
    state = request.app.state
    session = request.state.session
    auth.end_session(state.engine, request.cookies.get(state.session_cookie, ""))
    store.audit(
        state.engine,
        user_id=session.user.id,
        username=session.user.username,
        role=session.user.role,
        action="logout",
    )
    response = RedirectResponse("/login?out=1", status_code=303)
    response.delete_cookie(state.session_cookie, path="/")
    return response


# --- the queue -----------------------------------------------------------------------------


QUEUE_PARAMS = (
    "band",
    "team",
    "family",
    "status",
    "search",
    "sort",
    "page",
    "from-day",
    "from-month",
    "from-year",
    "to-day",
    "to-month",
    "to-year",
)


def _queue_filters(request: Request) -> tuple[store.QueueFilters, dict, params.Checked]:
    """The queue's filters from the query string, each checked; errors name their field."""
    state = request.app.state
    settings = state.settings
    raw = {k: request.query_params.get(k, "")[:200] for k in QUEUE_PARAMS}
    checked = params.Checked()
    families = store.reason_families(settings, state.engine)
    date_from = params.date_parts(
        raw["from-day"], raw["from-month"], raw["from-year"], checked, "from", "Referred from"
    )
    date_to = params.date_parts(
        raw["to-day"], raw["to-month"], raw["to-year"], checked, "to", "Referred to"
    )
    if date_from and date_to and date_from > date_to:
        checked.error("to-day", "Referred to must be the same as or after Referred from.")
    filters = store.QueueFilters(
        band=params.one_of(raw["band"], settings.review.flagged_bands, checked, "f-band", "a band"),
        team=params.one_of(raw["team"], settings.review.teams, checked, "f-team", "a team"),
        date_from=date_from,
        date_to=date_to,
        family=params.one_of(
            raw["family"], families, checked, "f-family", "what the reasons are about"
        ),
        status=params.one_of(raw["status"], store.STATUSES, checked, "f-status", "a status"),
        search=params.pseudonym(raw["search"], checked),
        sort=params.one_of(raw["sort"], store.SORTS, checked, "f-sort", "an order") or "band",
        page=params.page_number(raw["page"], checked),
    )
    return filters, raw, checked


@router.get("/queue")
@requires("queue")
def queue_page(request: Request):
    state = request.app.state
    settings = state.settings
    filters, raw, checked = _queue_filters(request)
    if checked.errors:
        items, total = [], 0
    else:
        items, total = store.queue(settings, state.engine, filters)
    count = store.day_count(settings, state.engine)
    now = store.utcnow()
    pages = max(1, -(-total // settings.review.page_size))
    query = {k: v for k, v in raw.items() if v and k != "page"}
    return render(
        request,
        "queue.html",
        status_code=422 if checked.errors else 200,
        errors=checked.errors,
        items=items,
        total=total,
        page=filters.page,
        pages=pages,
        query="&".join(f"{k}={quote(v)}" for k, v in query.items()),
        filters=filters,
        raw=raw,
        families=store.reason_families(settings, state.engine),
        count=count,
        since_referral=lambda item: waited(item.referral_date, now),
        since_flagged=lambda item: waited(item.flagged_since, now),
        statuses=store.STATUSES,
        sorts=store.SORTS,
        label_meaning=label_meaning(settings.models.primary_label),
    )


# --- the case page -------------------------------------------------------------------------


def _case_context(request: Request, decision_id: str) -> dict | None:
    state = request.app.state
    settings = state.settings
    if len(decision_id) > MAX_ID_CHARS:
        return None
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
    now = store.utcnow()
    user = request.state.session.user
    return {
        "case": case,
        "score": score,
        "raising": raising,
        "lowering": lowering,
        "history": history,
        "age_text": age_text,
        "band_meaning": band_meaning(settings, score["band"]),
        "backtest_text": backtest_text(
            band_outcome(state.engine, score),
            score["label"],
            settings.review.min_band_referrals,
            settings.privacy.suppress_counts_up_to,
        ),
        "label_meaning": label_meaning(score["label"]),
        "other_scores": [{**s, "meaning": label_meaning(s["label"])} for s in case.other_scores],
        "cannot_see": MODEL_CANNOT_SEE,
        "actions": ACTIONS,
        "purposes": reidentification.PURPOSES,
        "max_rationale": store.MAX_RATIONALE_CHARS,
        "form_token": secrets.token_urlsafe(24),
        "since_referral": waited(score["referral_date"], now),
        "since_flagged": waited(score["flagged_since"] or score["scored_at"], now),
        "latest": case.history[-1] if case.history else None,
        "action_label": lambda key: ACTIONS.get(key, key),
        "reidentify_available": case.in_queue and user.may("reidentify"),
        "reviewers": _reviewers(request) if user.may("allocate") else [],
        "errors": [],
    }


def _reviewers(request: Request) -> list[dict]:
    return [
        u
        for u in auth.list_users(request.app.state.engine)
        if u["active"] and u["role"] in ("reviewer", "team_manager")
    ]


def _not_found(request: Request) -> HTMLResponse:
    return error_page(request, 404, message="There is no such referral in the review store.")


@router.get("/cases/{decision_id}")
@requires("case")
def case_page(request: Request, decision_id: str, recorded: str = "", claimed: str = ""):
    state = request.app.state
    context = _case_context(request, decision_id)
    if context is None:
        return _not_found(request)
    user = request.state.session.user
    store.audit(
        state.engine,
        user_id=user.id,
        username=user.username,
        role=user.role,
        action="case_view",
        target=decision_id,
    )
    return render(request, "case.html", recorded=recorded == "1", **context)


@router.post("/cases/{decision_id}/decisions")
@requires("decide")
def decide(
    request: Request,
    decision_id: str,
    agrees: str = Form("", max_length=10),
    action: str = Form("", max_length=64),
    rationale: str = Form("", max_length=20_000),
    form_token: str = Form("", max_length=100),
):
    """The decision is judged against the case's current score: a posted score_id is ignored."""
    state = request.app.state
    user = request.state.session.user
    context = _case_context(request, decision_id)
    if context is None:
        return _not_found(request)
    errors = _decision_errors(agrees, action, rationale)
    if not errors:
        try:
            store.record_decision(
                state.engine,
                decision_id=decision_id,
                label=state.settings.models.primary_label,
                user_id=user.id,
                username=user.username,
                role=user.role,
                agrees={"yes": True, "no": False}.get(agrees),
                action=action,
                rationale=rationale,
                form_token=form_token,
            )
        except LookupError:
            return _not_found(request)
        except store.DecisionError as err:
            errors = [("rationale", str(err))]
    if errors:
        context.update(form_token=form_token or context["form_token"], errors=errors)
        return render(
            request,
            "case.html",
            status_code=422,
            entered={"agrees": agrees, "action": action, "rationale": rationale},
            **context,
        )
    return RedirectResponse(f"/cases/{quote(decision_id)}?recorded=1", status_code=303)


def _decision_errors(agrees: str, action: str, rationale: str) -> list[tuple[str, str]]:
    """Every problem with the decision form at once (GOV.UK error summary)."""
    errors = []
    if agrees not in ("yes", "no"):
        errors.append(("agrees-yes", "Select whether you agree with the flag."))
    if action not in ACTIONS:
        errors.append((f"action-{next(iter(ACTIONS))}", "Select an action."))
    text = store.clean_text(rationale)
    if len(text) < store.MIN_RATIONALE_CHARS:
        errors.append(
            (
                "rationale",
                f"Enter your rationale (at least {store.MIN_RATIONALE_CHARS} characters).",
            )
        )
    elif len(text) > store.MAX_RATIONALE_CHARS:
        errors.append(
            (
                "rationale",
                f"The rationale must be {store.MAX_RATIONALE_CHARS:,} characters or fewer "
                f"(it has {len(text):,}).",
            )
        )
    return errors


@router.post("/cases/{decision_id}/reidentify")
@requires("reidentify")
def reidentify(
    request: Request,
    decision_id: str,
    purpose: str = Form("", max_length=64),
    purpose_other: str = Form("", max_length=2000),
):
    """Only for a referral in the queue, with a purpose from the list, within the daily cap."""
    state = request.app.state
    settings = state.settings
    user = request.state.session.user
    context = _case_context(request, decision_id)
    if context is None:
        return _not_found(request)
    used = store.reidentifications_today(state.engine, user.id)
    entry = {"user_id": user.id, "username": user.username, "role": user.role}
    try:
        why = reidentification.authorise(
            reidentification.Request(
                role=user.role,
                purpose=purpose,
                other_text=store.clean_text(purpose_other),
                in_queue=context["case"].in_queue,
                used_today=used,
                daily_cap=settings.review.reidentify_daily_cap,
            )
        )
    except reidentification.Refused as refused:
        if refused.status != 422:
            store.audit(
                state.engine,
                **entry,
                action="reidentify_refused",
                target=decision_id,
                detail=refused.reason,
            )
        if refused.status == 403:
            return not_allowed(request, 403, refused.reason)
        field = refused.field or "purpose"
        target = "purpose-" + next(iter(reidentification.PURPOSES)) if field == "purpose" else field
        return render(
            request,
            "case.html",
            status_code=refused.status,
            reid_errors=[(target, refused.reason)],
            entered_purpose={"purpose": purpose, "other": purpose_other[:300]},
            **context,
        )
    child = context["score"]["child_id"]
    la_id, outcome = None, "no"
    try:
        la_id = reidentification.lookup(settings, child, who=user.username)
        outcome = "yes" if la_id else "no"
    except Exception as err:  # the boundary failing must not hide that someone asked
        outcome = f"error ({type(err).__name__})"
    store.audit(
        state.engine,
        **entry,
        action="reidentify",
        target=decision_id,
        detail=f"child={child}; found={outcome}; purpose={why}",
    )
    if used + 1 >= settings.review.reidentify_daily_cap:
        store.audit(
            state.engine,
            **entry,
            action="reidentify_cap",
            target=user.username,
            detail=f"reached the daily cap of {settings.review.reidentify_daily_cap} look-ups",
        )
    return render(request, "case.html", reidentified=la_id or "", reid_done=True, **context)


@router.post("/cases/{decision_id}/allocation")
@requires("claim")
def allocation(
    request: Request,
    decision_id: str,
    do: str = Form("", max_length=16),
    assignee: str = Form("", max_length=64),
):
    """claim (for yourself), release, or assign (a team manager: to any active reviewer)."""
    state = request.app.state
    user = request.state.session.user
    context = _case_context(request, decision_id)
    if context is None or not context["case"].in_queue:
        return _not_found(request)
    manager = user.may("allocate")
    target: int | None
    if do == "claim":
        target = user.id
    elif do == "release":
        target = None
    elif do == "assign" and manager:
        found = [u for u in _reviewers(request) if u["username"] == assignee]
        if not found:
            context["errors"] = [("assignee", "Choose a reviewer to assign the case to.")]
            return render(request, "case.html", status_code=422, **context)
        target = found[0]["id"]
    else:
        return error_page(request, 400)
    try:
        store.allocate(
            state.engine,
            decision_id=decision_id,
            assignee_id=target,
            by={"id": user.id, "username": user.username, "role": user.role},
            manager=manager,
        )
    except store.AllocationError as err:
        return not_allowed(request, 403, str(err))
    return RedirectResponse(f"/cases/{quote(decision_id)}", status_code=303)


# --- reports and summary (no case data) ----------------------------------------------------


def _reports_root(request: Request) -> Path:
    settings = request.app.state.settings
    return settings.resolve(settings.paths.reports).resolve()


def _listing(root: Path) -> list[dict]:
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
    return files


def _file(request: Request, root: Path, relative: str):
    if len(relative) > 500 or any(ord(c) < 32 or c == "\x7f" for c in relative):
        return error_page(request, 404)
    target = (root / relative).resolve()
    if (
        not target.is_relative_to(root)
        or not target.is_file()
        or target.suffix.lower() not in REPORT_SUFFIXES
        or any(part.startswith(".") for part in target.relative_to(root).parts)
    ):
        return error_page(request, 404)
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix.lower() == ".md":
        media = "text/plain; charset=utf-8"
    headers = {"content-security-policy": REPORT_CSP}
    return FileResponse(target, media_type=media, headers=headers)


@router.get("/reports")
@requires("reports")
def reports_page(request: Request):
    root = _reports_root(request)
    return render(
        request, "reports.html", files=_listing(root), root_exists=root.is_dir(), restricted=""
    )


@router.get("/reports/files/{relative:path}")
@requires("reports")
def report_file(request: Request, relative: str):
    return _file(request, _reports_root(request), relative)


# The governance board's restricted audits (every figure, small numbers included): their own
# folder and permission, governance and admin only (records.disclosure.restricted_dir).
@router.get("/restricted")
@requires("restricted")
def restricted_page(request: Request):
    root = restricted_dir(request.app.state.settings).resolve()
    return render(
        request,
        "reports.html",
        files=_listing(root),
        root_exists=root.is_dir(),
        restricted=RESTRICTED,
    )


@router.get("/restricted/files/{relative:path}")
@requires("restricted")
def restricted_file(request: Request, relative: str):
    return _file(request, restricted_dir(request.app.state.settings).resolve(), relative)


@router.get("/summary")
@requires("summary")
def summary_page(request: Request):
    state = request.app.state
    return render(
        request, "summary.html", summary=store.decision_summary(state.settings, state.engine)
    )


# --- admin and account ------------------------------------------------------------------

AUDIT_ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "case_view",
    "decision",
    "reidentify",
    "reidentify_refused",
    "reidentify_cap",
    "allocate",
    "user_add",
    "user_disable",
    "user_enable",
    "user_unlock",
    "user_reset_password",
    "user_remove",
    "password_change",
)


def _alerts(request: Request) -> list[dict]:
    return store.recent_alerts(request.app.state.engine)


@router.get("/admin/users")
@requires("users")
def users_page(request: Request, done: str = ""):
    return render(
        request,
        "users.html",
        users=auth.list_users(request.app.state.engine),
        labels=auth.ROLE_LABELS,
        alerts=_alerts(request),
        message=None,
    )


@router.post("/admin/users/{username}/{what}")
@requires("users")
def change_user(request: Request, username: str, what: str):
    """disable, enable, unlock, reset-password or remove: CSRF-checked (guard) and audited."""
    state = request.app.state
    user = request.state.session.user
    if what not in auth.LIFECYCLE or len(username) > 64:
        return error_page(request, 404)
    try:
        message = auth.change_user(
            state.settings, state.engine, username, what, by=user.username, by_id=user.id
        )
    except auth.UserError as err:
        return render(
            request,
            "users.html",
            status_code=422,
            users=auth.list_users(state.engine),
            labels=auth.ROLE_LABELS,
            alerts=_alerts(request),
            errors=[("users", str(err))],
            message=None,
        )
    return render(
        request,
        "users.html",
        users=auth.list_users(state.engine),
        labels=auth.ROLE_LABELS,
        alerts=_alerts(request),
        message=message,
    )


@router.get("/admin/audit")
@requires("audit")
def audit_page(request: Request, action: str = "", page: str = "1"):
    checked = params.Checked()
    chosen = params.one_of(action[:64], AUDIT_ACTIONS, checked, "f-action", "an action")
    number = params.page_number(page[:10], checked)
    rows, total = store.read_audit(request.app.state.engine, action=chosen, page=number)
    pages = max(1, -(-total // 100))
    return render(
        request,
        "audit.html",
        status_code=422 if checked.errors else 200,
        errors=checked.errors,
        rows=rows,
        total=total,
        page=number,
        pages=pages,
        action=chosen or "",
        actions=AUDIT_ACTIONS,
        alerts=_alerts(request),
    )


@router.get("/account/password")
@requires("session")
def password_page(request: Request, changed: str = ""):
    return render(request, "password.html", errors=[], changed=changed == "1")


@router.post("/account/password")
@requires("session")
def change_password(
    request: Request,
    current: str = Form("", max_length=2048),
    new: str = Form("", max_length=2048),
    confirm: str = Form("", max_length=2048),
):
    state = request.app.state
    session = request.state.session
    problems = auth.change_own_password(
        state.settings, state.engine, session.user, current, new, confirm, session.token_hash
    )
    if problems:
        return render(
            request,
            "password.html",
            status_code=422,
            errors=[(f"password-{k}", v) for k, v in problems.items()],
        )
    return RedirectResponse("/account/password?changed=1", status_code=303)


def not_allowed(request: Request, status_code: int, reason: str) -> Response:
    return render(request, "forbidden.html", status_code=status_code, reason=reason)


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    """The app's own page for an error status (never the framework's JSON)."""
    if not hasattr(request.state, "session"):
        request.state.session = None
    heading, default = ERRORS.get(status_code, ("Something went wrong", "Please try again."))
    return render(
        request, "error.html", status_code=status_code, heading=heading, message=message or default
    )

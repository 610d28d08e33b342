"""Council sign-in with OpenID Connect: authorization code with PKCE (S256), via authlib (OAuth)
and joserfc (the ID token's signature and claims; authlib.jose is deprecated in its favour).

Configured by ``review.oidc_issuer``, ``oidc_client_id``, ``oidc_client_secret`` and
``oidc_roles`` (group -> role, from the ``oidc_group_claim`` claim). MFA and password policy are
then the identity provider's. The flow's state, nonce and PKCE verifier travel in a short-lived
HMAC-signed cookie, so no server-side store is needed and any worker can finish the flow.
A person's account is found by issuer and subject; the first sign-in creates it, every sign-in
takes the role from the groups again, and a disabled or removed account stays refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import Engine, insert, select, update

from frontdoor.review.auth import ROLES, User
from frontdoor.review.db import writing
from frontdoor.review.schema import users
from frontdoor.review.store import utcnow, write_audit
from frontdoor.settings import Settings

FLOW_SECONDS = 600
# The most powerful role wins when a person is in several mapped groups.
ROLE_ORDER = ("admin", "governance", "data_scientist", "team_manager", "reviewer")
_metadata: dict[str, tuple[float, dict, object]] = {}
_lock = threading.Lock()


class OidcError(Exception):
    """Sign-in with the council's provider failed; the message is safe to show."""


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str
    issued: float


def configured(settings: Settings) -> bool:
    r = settings.review
    return bool(r.oidc_issuer and r.oidc_client_id and r.oidc_client_secret)


# Asymmetric signatures only: an ID token MACed with the client secret (HS256) is not accepted
ID_TOKEN_ALGORITHMS = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
]


def provider(settings: Settings) -> tuple[dict, object]:
    """The provider's discovery document and signing keys (cached for an hour)."""
    issuer = settings.review.oidc_issuer.rstrip("/")
    with _lock:
        cached = _metadata.get(issuer)
        if cached and time.monotonic() - cached[0] < 3600:
            return cached[1], cached[2]
    meta = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    if meta.get("issuer", "").rstrip("/") != issuer:
        raise OidcError("The identity provider's discovery document names another issuer.")
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).json())
    with _lock:
        _metadata[issuer] = (time.monotonic(), meta, keys)
    return meta, keys


def _sign(secret: bytes, payload: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    mac = hmac.new(secret, f"oidc:{body}".encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(secret: bytes, value: str) -> dict | None:
    body, _, mac = (value or "").rpartition(".")
    good = hmac.new(secret, f"oidc:{body}".encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(good, mac):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None


def redirect_uri(settings: Settings, base_url: str) -> str:
    base = (settings.review.oidc_redirect_base or base_url).rstrip("/")
    return f"{base}/login/oidc/callback"


def start(settings: Settings, secret: bytes, base_url: str, next_: str) -> tuple[str, str]:
    """(the provider's authorization URL, the signed flow cookie)."""
    meta, _keys = provider(settings)
    flow = Flow(generate_token(32), generate_token(32), generate_token(64), next_, time.time())
    query = {
        "response_type": "code",
        "client_id": settings.review.oidc_client_id,
        "redirect_uri": redirect_uri(settings, base_url),
        "scope": "openid profile email",
        "state": flow.state,
        "nonce": flow.nonce,
        "code_challenge": create_s256_code_challenge(flow.verifier),
        "code_challenge_method": "S256",
    }
    url = f"{meta['authorization_endpoint']}?{urlencode(query)}"
    return url, _sign(secret, flow.__dict__)


def finish(
    settings: Settings, engine: Engine, secret: bytes, cookie: str, base_url: str, query: dict
) -> tuple[User, str]:
    """Check the callback against the flow, exchange the code (with the PKCE verifier), verify
    the ID token (signature, issuer, audience, expiry, nonce) and find or create the user."""
    data = _unsign(secret, cookie)
    if data is None or time.time() - data.get("issued", 0) > FLOW_SECONDS:
        raise OidcError("The sign-in took too long or did not start here. Please try again.")
    flow = Flow(**data)
    if not secrets.compare_digest(str(query.get("state", "")), flow.state):
        raise OidcError("The sign-in answer does not match this browser. Please try again.")
    if query.get("error"):
        raise OidcError("The council's sign-in service refused the sign-in.")
    meta, keys = provider(settings)
    client = OAuth2Client(
        settings.review.oidc_client_id,
        settings.review.oidc_client_secret.get_secret_value(),
        redirect_uri=redirect_uri(settings, base_url),
        timeout=10,
    )
    try:
        token = client.fetch_token(
            meta["token_endpoint"],
            grant_type="authorization_code",
            code=str(query.get("code", "")),
            code_verifier=flow.verifier,
        )
        decoded = jwt.decode(token["id_token"], keys, algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": meta["issuer"]},
            aud={"essential": True, "value": settings.review.oidc_client_id},
            nonce={"essential": True, "value": flow.nonce},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(decoded.claims)
        claims = decoded.claims
    except (JoseError, KeyError, ValueError, httpx.HTTPError) as err:
        raise OidcError("The council's sign-in could not be checked. Please try again.") from err
    if "userinfo_endpoint" in meta and settings.review.oidc_group_claim not in claims:
        info = client.get(meta["userinfo_endpoint"], token=token).json()
        claims = {**info, **dict(claims)}
    return account(settings, engine, dict(claims)), flow.next


def role_for(settings: Settings, groups) -> str | None:
    if isinstance(groups, str):
        groups = [groups]
    mapped = {settings.review.oidc_roles.get(str(g)) for g in groups or []}
    return next((r for r in ROLE_ORDER if r in mapped and r in ROLES), None)


def account(settings: Settings, engine: Engine, claims: dict) -> User:
    """The user for these claims: created on first sign-in; role from the groups each time."""
    subject = f"{claims['iss']}|{claims['sub']}"
    role = role_for(settings, claims.get(settings.review.oidc_group_claim))
    with writing(engine) as conn:
        row = conn.execute(select(users).where(users.c.oidc_subject == subject)).first()
        if role is None:
            write_audit(
                conn,
                user_id=row.id if row else None,
                username=row.username if row else None,
                role=None,
                action="login_failed",
                detail="oidc: no mapped group",
            )
            raise OidcError("Your council account is not in a group that may use frontdoor.")
        if row is not None and (not row.active or row.removed_at is not None):
            write_audit(
                conn,
                user_id=row.id,
                username=row.username,
                role=row.role,
                action="login_failed",
                detail="oidc: account disabled",
            )
            raise OidcError("Your frontdoor account is disabled. Ask an administrator.")
        if row is None:
            name = _username(conn, claims)
            user_id = conn.execute(
                insert(users).values(
                    username=name,
                    role=role,
                    password_hash="!oidc",
                    active=True,
                    created_at=utcnow(),
                    failed_logins=0,
                    oidc_subject=subject,
                )
            ).inserted_primary_key[0]
            write_audit(
                conn,
                user_id=None,
                username="oidc",
                role=None,
                action="user_add",
                target=name,
                detail=f"role={role}; first council sign-in",
            )
        else:
            user_id, name = row.id, row.username
            if row.role != role:
                conn.execute(update(users).where(users.c.id == row.id).values(role=role))
        write_audit(conn, user_id=user_id, username=name, role=role, action="login", detail="oidc")
    return User(int(user_id), name, role)


def _username(conn, claims: dict) -> str:
    raw = str(claims.get("preferred_username") or claims.get("email") or claims["sub"]).lower()
    base = re.sub(r"[^a-z0-9._-]+", ".", raw).strip(".-_")[:56] or "user"
    name, n = base if len(base) >= 2 else f"{base}.u", 1
    while conn.execute(select(users.c.id).where(users.c.username == name)).first():
        n += 1
        name = f"{base}.{n}"
    return name

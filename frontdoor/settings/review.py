"""The review web app."""

from pydantic import Field, SecretStr

from frontdoor.settings.section import Section


class ReviewSettings(Section):
    # A secret: a PostgreSQL URL may hold a password, which must never reach logs, MLflow or
    # Prefect's stored flow parameters.
    database_url: SecretStr = SecretStr(
        "sqlite:///data/review.db"
    )  # relative SQLite paths: from the project root
    # PostgreSQL: the role that owns the schema and runs migrations (docs/deployment.md). The app
    # then connects as database_url's role, which may only INSERT and SELECT decisions and audit.
    migration_database_url: SecretStr | None = None
    # The reverse proxy's address(es), trusted for X-Forwarded-For/-Proto (uvicorn's
    # forwarded_allow_ips): without it every person seems to come from the proxy, and the
    # per-address sign-in limits would apply to the whole council at once.
    forwarded_allow_ips: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    session_minutes: int = 30  # idle timeout: a session unused this long is over
    session_max_hours: int = 10  # absolute lifetime of a session, however active
    secret_key: SecretStr | None = None  # None in demo mode: generated and kept locally
    secure_cookies: bool = False  # True behind TLS: cookies only over HTTPS, plus HSTS
    daily_capacity: int = 12
    teams: list[str] = ["MASH A", "MASH B"]
    # Bands that put a referral in the queue, most urgent first (names from models.band_names).
    flagged_bands: list[str] = Field(default_factory=lambda: ["very high", "high"])
    page_size: int = 25  # rows per queue page (the daily capacity is far smaller)
    # The case page says what happened to the backtest's referrals in the score's band only
    # when the band held at least this many test referrals; fewer: "too few to say".
    min_band_referrals: int = Field(20, ge=1)
    top_reasons_in_queue: int = 3
    max_login_failures: int = 5  # then the account waits lockout_minutes before trying again
    lockout_minutes: int = 15
    workers: int = 1  # uvicorn worker processes for `frontdoor serve` (SQLite in WAL copes)
    # argon2id cost (RFC 9106's second recommended option); tests lower it to stay fast.
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    # Re-identification: look-ups per reviewer per day (Europe/London); reaching it alerts admins.
    reidentify_daily_cap: int = Field(10, ge=1, le=1000)
    # Abuse resistance (per worker process: a reverse proxy should limit too, docs/deployment.md)
    max_body_bytes: int = Field(64 * 1024, ge=1024)  # refused (413) before any byte is read
    sign_in_per_ip_per_minute: int = Field(10, ge=1)
    # each admitted attempt costs one argon2 check (~0.3 CPU-s at the default cost): 30 a minute
    # per worker keeps a flood's hashing to about a sixth of a core
    sign_in_global_per_minute: int = Field(30, ge=1)
    # a refused sign-in (429) is answered after this pause, costing the app no CPU: a flood
    # whose clients wait for each answer then sends a few requests a second, not hundreds
    refused_sign_in_delay_seconds: float = Field(5.0, ge=0, le=10)
    hash_workers: int = Field(2, ge=1, le=16)  # argon2 runs here, off the request threads
    hash_queue: int = Field(16, ge=1)  # sign-ins waiting for a hash slot; beyond it: 503
    login_token_minutes: int = Field(20, ge=1, le=240)  # the sign-in form's token lives this long
    # OpenID Connect (council sign-in); local passwords stay available unless turned off.
    oidc_issuer: str | None = None  # e.g. https://login.council.example/realms/staff
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_group_claim: str = "groups"
    oidc_roles: dict[str, str] = Field(default_factory=dict)  # group -> role
    oidc_redirect_base: str | None = (
        None  # the app's public URL, e.g. https://review.council.example
    )
    local_passwords: bool = True

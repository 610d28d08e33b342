"""The review web app."""

from pydantic import Field, SecretStr

from frontdoor.settings.section import Section


class ReviewSettings(Section):
    # A secret: a PostgreSQL URL may hold a password, which must never reach logs, MLflow or
    # Prefect's stored flow parameters.
    database_url: SecretStr = SecretStr(
        "sqlite:///data/review.db"
    )  # relative SQLite paths: from the project root
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
    top_reasons_in_queue: int = 3
    max_login_failures: int = 5  # then the account waits lockout_minutes before trying again
    lockout_minutes: int = 15
    workers: int = 1  # uvicorn worker processes for `frontdoor serve` (SQLite in WAL copes)
    # argon2id cost (RFC 9106's second recommended option); tests lower it to stay fast.
    password_time_cost: int = 3
    password_memory_kib: int = 65536

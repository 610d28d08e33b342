"""The review web app."""

from pydantic import SecretStr

from frontdoor.settings.section import Section


class ReviewSettings(Section):
    database_url: str = "sqlite:///data/review.db"  # relative SQLite paths: from the project root
    host: str = "127.0.0.1"
    port: int = 8000
    session_minutes: int = 30
    secret_key: SecretStr | None = None  # None in demo mode: generated and kept locally
    daily_capacity: int = 12
    teams: list[str] = ["MASH A", "MASH B"]

"""Pseudonymisation and disclosure control."""

from pydantic import SecretStr

from frontdoor.settings.section import Section


class PrivacySettings(Section):
    # The HMAC-SHA256 key for pseudonymising identifiers. Outside demo mode it must be set
    # (FRONTDOOR_PRIVACY__PSEUDONYM_KEY or a key file); in demo mode a local key is generated.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: str | None = None
    # Counts from 1 to this number are suppressed as "c" in published tables (DfE convention).
    suppress_counts_up_to: int = 5
    # Pseudonym -> LA child id, for the review app only (docs/privacy.md). Kept outside the
    # canonical folder, file mode 0600; every look-up is logged in it.
    reidentification_db: str = ".frontdoor/reidentification/lookup.sqlite"

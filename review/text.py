"""Free text from forms: control characters and bidirectional overrides removed, length bounded."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls except tab and newline; the bidi embeddings, overrides and isolates (which can
# make text read differently from how it is stored: "Trojan Source"); zero-width joiners kept out.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def clean_text(value: str | None) -> str:
    """NFC-normalised text without unsafe characters; Windows line ends become newlines."""
    text = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n").replace("\r", "\n"))
    return _UNSAFE.sub("", text).strip()

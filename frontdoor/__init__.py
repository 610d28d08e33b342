"""frontdoor: flags for human review at the children's services front door.

The model flags referrals for professional review. It never decides, never closes
a case and never screens a child out.
"""

from importlib.metadata import PackageNotFoundError, version

try:  # written once, in pyproject.toml; the installed package's metadata carries it
    __version__ = version("frontdoor")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

REVIEW_NOTICE = "This flag is a prompt for professional review, not a decision."

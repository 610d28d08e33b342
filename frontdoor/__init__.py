"""frontdoor: flags for human review at the children's services front door.

The model flags referrals for professional review. It never decides, never closes
a case and never screens a child out.
"""

__version__ = "0.1.0"

REVIEW_NOTICE = "This flag is a prompt for professional review, not a decision."

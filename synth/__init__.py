"""The synthetic local authority: a seeded, vectorised simulation with known ground truth.

``generate(settings)`` returns a ``SyntheticCouncil`` (canonical tables with raw council ids,
the oracle's probabilities per referral, a manifest); ``write_council`` stores it.
See docs/synthetic-council.md.
"""

from frontdoor.synth.council import SyntheticCouncil, generate, read_ground_truth, write_council
from frontdoor.synth.rates import TARGETS, achieved_rates, within_targets

__all__ = [
    "TARGETS",
    "SyntheticCouncil",
    "achieved_rates",
    "generate",
    "read_ground_truth",
    "within_targets",
    "write_council",
]

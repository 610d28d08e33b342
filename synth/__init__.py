"""The synthetic local authority: a seeded, vectorised simulation with known ground truth.

``synth.council.generate(settings)`` returns a ``SyntheticCouncil`` (canonical tables with raw
council ids, the oracle's probabilities per referral, a manifest); ``write_council`` stores it;
``synth.run.synthesise`` does both. See docs/synthetic-council.md.
"""

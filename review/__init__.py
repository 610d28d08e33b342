"""The review web app: MASH managers work flagged referrals, with reasons, chronology and an
audited, append-only decision. The flag is a prompt for professional review, not a decision.

Entry points for other rooms: ``review.store.load_scored_referrals`` (the score flow) and
``review.store.export_decisions`` (the monitor flow); ``review.app.create_app`` builds the app.
"""

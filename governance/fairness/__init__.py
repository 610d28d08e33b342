"""The fairness audit: metrics by group with intervals, suppression, plots and the published record.

The gate that judges an audit lives one level up (``frontdoor.governance.gate``): it imports the
audit, never the other way round.
"""

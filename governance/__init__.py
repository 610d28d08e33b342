"""governance room of frontdoor: fairness audit and gate, promotion, the governance report and ATRS record, monitoring."""

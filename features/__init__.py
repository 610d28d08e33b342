"""features room of frontdoor."""

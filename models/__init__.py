"""models room of frontdoor."""

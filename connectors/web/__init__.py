"""Polite, guarded fetching of partner websites and extraction of what they say about themselves."""

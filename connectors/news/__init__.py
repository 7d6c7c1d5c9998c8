"""News about a partner: GDELT DOC 2.0 article lists, RSS/Atom feeds, dedup, adverse-media tags."""

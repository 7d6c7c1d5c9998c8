"""GLEIF LEI API v1 (CC0 data): LEI records, and later ownership and name search."""

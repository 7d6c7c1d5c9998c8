"""Sanctions lists (OFAC SDN legacy CSV, UN SC consolidated XML) and name screening."""

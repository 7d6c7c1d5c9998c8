"""Sanctions lists (OFAC SDN legacy CSV, UN Security Council consolidated XML) and name screening."""

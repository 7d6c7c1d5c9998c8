"""Country context indices: CPI, Hofstede 6-D, Heritage (and IPRI when available), plus
cultural/institutional/IP distances between countries. See the module docstrings."""

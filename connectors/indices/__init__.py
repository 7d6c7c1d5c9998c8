"""Country context indices: CPI, Hofstede 6-D, Heritage (Property Rights as the IP proxy), plus
cultural/institutional/IP distances between countries. See the module docstrings."""

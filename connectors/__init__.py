"""Source connectors: one package per public source, plus the shared HTTP layer."""

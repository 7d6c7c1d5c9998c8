"""Python marts: one module per mart, named after it, with `compute(con, context)` and an
optional `SCHEMA`; flows/models.py finds them."""

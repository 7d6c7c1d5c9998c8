"""GLEIF level-2 ownership (parents, reporting exceptions, children) as a source of its own;
the requests and parsers are in connectors/gleif/ownership.py."""

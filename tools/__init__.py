"""tsdx's tools: the command line, the bench and the Python clients of tsdx's HTTP APIs.

They drive the services from outside and may import them; nothing in ``services/`` or the
runtime core (``shared/``) imports this package (tests/unit/test_layering.py keeps it so).
"""

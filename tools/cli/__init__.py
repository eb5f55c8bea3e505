"""The ``tsdx`` command line."""

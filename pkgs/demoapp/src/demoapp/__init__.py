"""demoapp: command-line front end for the sagebuild demo distribution."""

__version__ = "0.1.0"

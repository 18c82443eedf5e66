"""pywhisk's version: read by `wsk` (``property get --cliversion``, its User-Agent) and by
setuptools for the package's metadata, so that `wsk` never loads importlib.metadata."""

VERSION = "0.1.0"

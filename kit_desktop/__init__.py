"""Kit Desktop: connect a Kit account to a desktop app with OAuth 2.0 and PKCE."""

__all__ = ["APP_NAME", "__version__"]

__version__ = "0.1.0"
APP_NAME = "Kit Desktop"

"""The environment that points the app (``main.py``) at a sandbox instead of Kit."""

from __future__ import annotations

import os
from pathlib import Path


def kit_environment(base_url: str, client_id: str, home: Path) -> dict[str, str]:
    """``os.environ`` plus the ``KIT_*`` settings for the sandbox at ``base_url``.

    The direct route with an ephemeral loopback port (the sandbox must accept any port),
    and the app's data and config folders under ``home``.
    """
    base = base_url.rstrip("/")
    return {
        **os.environ,
        "KIT_CLIENT_ID": client_id,
        "KIT_AUTHORIZE_URL": f"{base}/v4/oauth/authorize",
        "KIT_TOKEN_URL": f"{base}/v4/oauth/token",
        "KIT_REVOKE_URL": f"{base}/v4/oauth/revoke",
        "KIT_API_URL": base,
        "KIT_ROUTE": "direct",
        "KIT_REDIRECT_URI": "http://127.0.0.1:0/callback",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }

"""A local Kit: OAuth 2.0 + PKCE server and a v4 API subset, for tests, demos and practice."""

from kit_desktop.sandbox.behaviours import KitBehaviours
from kit_desktop.sandbox.faults import Fault
from kit_desktop.sandbox.oauth import SandboxApp
from kit_desktop.sandbox.server import SandboxServer

__all__ = ["Fault", "KitBehaviours", "SandboxApp", "SandboxServer"]

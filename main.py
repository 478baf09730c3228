"""Launcher for Kit Desktop: everything happens in :func:`kit_desktop.app.main`."""

import sys

from kit_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m kit_desktop`` runs the same as ``python main.py``."""

import sys

from kit_desktop.app import main

sys.exit(main())

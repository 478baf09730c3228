"""Passive widgets: they show SessionView snapshots and emit ``*_requested`` intents.

Nothing here imports ``kit_desktop.auth``, ``api`` or ``sandbox`` or does I/O; the only
timers repaint countdowns from the wall clock. ``main_window.MainWindow`` is the entry point.
"""

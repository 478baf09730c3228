"""The window's composition: builds the session, the panels and the window, and starts them.

The one package above both ``qt/`` (adapters) and ``ui/`` (widgets); nothing imports it but
the entry points.
"""

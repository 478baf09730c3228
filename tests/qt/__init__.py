"""Tests of the Qt adapters (pytest-qt, offscreen)."""

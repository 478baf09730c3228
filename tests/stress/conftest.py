"""Qt objects made by one test are collected before the next one starts (see tests/qt)."""

from tests.qt.conftest import _collect_between_tests

__all__ = ["_collect_between_tests"]

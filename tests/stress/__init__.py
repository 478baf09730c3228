"""Stress tests: the loopback receiver under a storm of hostile connections."""

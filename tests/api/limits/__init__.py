"""Limits that must hold under simultaneous requests: allowance, cap, conflicts."""

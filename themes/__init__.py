"""Textual CSS themes shipped with kafka-workbench (read by tui/themes.py)."""

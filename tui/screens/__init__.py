"""The workbench's screens and dialogs, one per module."""

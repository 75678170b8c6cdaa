"""Temporal workflows: each folder is one workflow with its types and activities."""

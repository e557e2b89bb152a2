"""Recognizers: the catalog of known log patterns (data), how it is loaded, and how lines are matched."""

"""Modal screens: help, explanations, confirmations."""

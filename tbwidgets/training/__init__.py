"""Tier 3 training (fine-tuning, curves, search, GLUE): usable without widgets. Not built yet."""

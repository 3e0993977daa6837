"""Command line interface (`tbwidgets validate ...`); never imports widget code."""

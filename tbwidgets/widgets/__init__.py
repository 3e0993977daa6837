"""Notebook widgets: the ValidatorWidget shell and the views it composes (anywidget front ends in js/)."""

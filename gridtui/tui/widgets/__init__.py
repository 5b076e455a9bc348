"""Dashboard widgets, one per module, named after the class it holds.

Widgets get their data as attributes (view objects from :mod:`gridtui.tui.views`)
and never import the engine beyond its event types; they report user intent
upward with messages nested in their classes.
"""

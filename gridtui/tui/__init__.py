"""The Textual dashboard.

App, keymap, messages, view model, folds, screens and widgets — the only package that
imports Textual.
"""

"""Screens of the dashboard: the main cockpit, the help screen and the new-backtest form."""

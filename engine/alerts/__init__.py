"""Alerts.

The rules, the forecast checks, the alert engine that runs them and the state they
share.
"""

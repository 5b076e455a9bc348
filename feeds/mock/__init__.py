"""The market simulator.

Coupled zone prices, intraday ticks and auctions, fundamentals, calibrated profiles.
"""

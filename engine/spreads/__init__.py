"""Cross-border spreads.

The incremental spread engine, its config, the interconnectors and what a transmission
right costs.
"""

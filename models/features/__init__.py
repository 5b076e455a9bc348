"""Features of the price forecasts.

The day-ahead and intraday pipelines, shared by training and live inference.
"""

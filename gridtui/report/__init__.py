"""HTML backtest reports and the SVG charts they are drawn with."""

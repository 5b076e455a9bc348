"""Trading strategies: the framework (``base``, ``execution``), the registry, one strategy a file.

Hosted at run time by :class:`engine.strategies.manager.StrategyManager`, live and in
backtests (:mod:`engine.backtest.run`) alike.
"""

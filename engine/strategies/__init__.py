"""Trading strategies: the framework (``base``, ``execution``), the registry, one strategy a file.

Hosted at run time by :class:`engine.strategy_manager.StrategyManager`, live and in
backtests (:mod:`engine.backtest`) alike.
"""

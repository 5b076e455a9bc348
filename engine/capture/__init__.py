"""The live "% of perfect foresight" ledger: what each battery and strategy captured.

:class:`~engine.capture.book.CaptureBook` folds the engine's own events (day-ahead
prices, battery states, settlements) into one row per owner and window
(:mod:`engine.capture.rows`); :class:`~engine.capture.component.CaptureComponent`
runs it inside the kernel. Not to be confused with :mod:`engine.market.ledger`
(the position ledger of orders and fills).
"""

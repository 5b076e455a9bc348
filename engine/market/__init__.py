"""The market timeline and what trades on it: products, gate closures, positions, settlement.

:mod:`engine.market.timeline` says what can be traded when; :mod:`engine.market.auction_book`
holds day-ahead orders until their clearing price is published;
:mod:`engine.market.ledger` keeps positions per delivery period and settles them.
"""

"""The gate-closure cockpit: what closes next in each market, and who is ready for it.

:class:`~engine.cockpit.board.GateBoard` computes, from the market timeline
(:mod:`engine.market.timeline`) and what the engine has seen, each market's next
gate closures with their countdowns, the publication status of the day-ahead
auction whose gate closed last (awaiting, published, late), and for each running
strategy whether its orders for each open auction are in. It raises the
``gate_missed`` and ``publication_late`` alerts.
:class:`~engine.cockpit.component.CockpitComponent` runs it in the kernel; the
front ends ask it for :meth:`~engine.cockpit.component.CockpitComponent.snapshot`.
"""

"""Running a node of a role: standby until it holds the lease, then the kernel.

``gridtui daemon`` calls :func:`run_node` once its API is up. A node of a role
without a lease (``all``, ``api``) runs at once. An ``ingest`` or ``analytics``
node waits as standby (its API answers, ``/health`` says ``standby`` and who is
active) until the lease is free, then takes it, resumes the feed from the last
stored instant (:func:`gridtui.roles.catch_up.resume`) and runs the kernel
while renewing the lease. Losing the lease stops the kernel and raises
:class:`~gridtui.roles.lease.LeaseLost`: a node that cannot prove it is the
active one must not write (the supervisor restarts it as a standby).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from engine.kernel import KernelStats
from engine.runtime import Runtime
from gridtui.roles.catch_up import resume
from gridtui.roles.lease import LeaseLost, RedisLease
from gridtui.roles.node import NodeState

log = logging.getLogger("gridtui.daemon")


async def _wait_for_lease(
    runtime: Runtime, node: NodeState, lease: RedisLease, deadline: float | None
) -> bool:
    """Poll the lease until it is ours; False when the daemon is stopped (or its time ends)."""
    loop = asyncio.get_running_loop()
    holder = ""
    while True:
        try:
            if await lease.try_acquire():
                return True
        except Exception as exc:  # a Redis outage: stay standby and try again
            log.warning("lease %s: cannot ask Redis (%s); still standby", lease.key, exc)
        current = await lease.holder()
        node.active_node = current
        if current != holder:
            holder = current
            log.info("standby: %s holds %s", holder or "nobody", lease.key)
        if runtime.kernel.stopping or (deadline is not None and loop.time() >= deadline):
            return False
        await asyncio.sleep(max(0.05, lease.lease_s / 10))


async def run_node(
    runtime: Runtime,
    node: NodeState,
    lease: RedisLease | None,
    markets: Sequence[str],
    duration_s: float | None = None,
) -> KernelStats:
    """Run ``runtime`` as this node's role (see the module docstring) until stopped."""
    if lease is None:
        node.activate(runtime.clock.now())
        return await runtime.run(duration_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration_s if duration_s is not None else None
    node.stand_by()
    try:
        if not await _wait_for_lease(runtime, node, lease, deadline):
            return runtime.kernel.stats
        node.activate(runtime.clock.now())
        resumed = await resume(runtime.kernel.feed, runtime.store, markets)
        log.info(
            "active: %s took %s",
            node.node_id,
            lease.key,
            extra={"resume_from": resumed.isoformat() if resumed else "now"},
        )
        left = None if deadline is None else max(0.01, deadline - loop.time())
        running = asyncio.create_task(runtime.run(left), name="kernel")
        keeper = asyncio.create_task(lease.keep(), name="lease")
        await asyncio.wait({running, keeper}, return_when=asyncio.FIRST_COMPLETED)
        if keeper.done():
            runtime.stop()
            with contextlib.suppress(Exception):
                await running
            node.stand_by()
            keeper.result()  # raises LeaseLost
            raise LeaseLost(f"lease {lease.key} keeper ended")  # pragma: no cover
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        return running.result()
    finally:
        await lease.release()

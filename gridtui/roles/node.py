"""What a daemon node says about itself: its role and whether it is the active one.

The daemon command keeps it up to date (standby → active on takeover); the API
reads it for ``/health`` (:class:`gridtui.daemon.schemas.NodeStatus`), and the
remote dashboard shows it in its status bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Roles whose node runs a feed of its own (the others see the feed over the bus).
FEED_ROLES = frozenset({"all", "ingest"})
# Roles with one active node per feed, holding a lease; api nodes are all active.
LEASED_ROLES = frozenset({"ingest", "analytics"})


@dataclass
class NodeState:
    """This node: role, id, ``active`` or ``standby``, and since when.

    ``lease_key`` and ``active_since`` are empty for roles that hold no lease.
    """

    role: str
    node_id: str
    state: str = "active"
    lease_key: str = ""
    active_since: datetime | None = None
    takeovers: int = 0
    # Who holds the lease, as the standby last read it (this node once active).
    active_node: str = ""
    # Role → the node holding its lease (ingest, analytics), read by a LeaseWatcher.
    active_nodes: dict[str, str] = field(default_factory=dict)

    @property
    def owns_feed(self) -> bool:
        """Whether this node's kernel runs the feed now (its health is the feed's)."""
        return self.role in FEED_ROLES and self.state == "active"

    def describe(self) -> str:
        """``"api node api-1"``, ``"ingest node ing-b standby"``: for the status bar."""
        standby = " standby" if self.state == "standby" else ""
        return f"{self.role} node {self.node_id}{standby}"

    def activate(self, now: datetime) -> None:
        self.state = "active"
        self.active_node = self.node_id
        self.active_since = now
        self.takeovers += 1

    def stand_by(self) -> None:
        self.state = "standby"
        self.active_node = ""
        self.active_since = None

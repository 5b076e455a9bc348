"""PolicyController: an RL battery policy (``engine.ports.Policy``) as a dispatch controller.

It lives apart from :mod:`engine.battery.controller` because it builds the
policy's observation (:mod:`engine.battery.observation`), which itself reads
the controller's :class:`~engine.battery.controller.DecisionContext`.
"""

from __future__ import annotations

import math

from engine.battery.controller import DecisionContext
from engine.battery.observation import build_observation
from engine.ports import Policy


class PolicyController:
    """An RL policy behind the :class:`~engine.ports.Policy` port, as a controller.

    The policy sees the observation of :mod:`engine.battery.observation` and answers a
    fraction of rated power in [−1, 1]; anything outside is clipped here.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @property
    def name(self) -> str:
        return f"rl:{self.policy.policy_id}"

    def decide(self, context: DecisionContext) -> float:
        action = self.policy.act(build_observation(context))
        if not math.isfinite(action):
            return 0.0
        return min(max(action, -1.0), 1.0) * context.spec.power_mw


__all__ = ["PolicyController"]

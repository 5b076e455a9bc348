"""Each role builds only its parts; a split role refuses backends it cannot share."""

from __future__ import annotations

import pytest

from feeds.bus import BusFeed
from gridtui.roles.build import IdleFeed, build_role_runtime, node_and_lease
from gridtui.roles.catch_up import CatchUpFeed
from gridtui.settings.loader import SettingsError, load_settings

SHARED = {
    "store": {"url": "postgresql://postgres@127.0.0.1:5432/test"},
    "bus": {"url": "redis://127.0.0.1:6379/0", "prefix": "roles-unit"},
}


def settings_for(role: str, tmp_path, **sections):
    overrides = {"daemon": {"role": role, "node_id": f"{role}-1"}, **SHARED, **sections}
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path), **overrides})


def test_ingest_runs_the_feed_and_nothing_else(tmp_path):
    runtime = build_role_runtime(settings_for("ingest", tmp_path))
    assert isinstance(runtime.kernel.feed, CatchUpFeed)
    assert runtime.kernel.components == []
    assert runtime.kernel.forward_input
    assert (runtime.store.backend, runtime.bus.backend) == ("postgresql", "redis")


def test_analytics_reads_the_bus_and_runs_every_analytics_component(tmp_path):
    runtime = build_role_runtime(settings_for("analytics", tmp_path))
    assert isinstance(runtime.kernel.feed, BusFeed)
    assert runtime.kernel.feed.bus is runtime.bus
    names = [component.name for component in runtime.kernel.components]
    assert {"spreads", "strategies", "alerts"} <= set(names)
    assert not runtime.kernel.forward_input


def test_api_has_no_feed_and_no_components(tmp_path):
    runtime = build_role_runtime(settings_for("api", tmp_path))
    assert isinstance(runtime.kernel.feed, IdleFeed)
    assert runtime.kernel.components == []
    assert not runtime.kernel.forward_input


def test_all_is_the_single_process_engine(tmp_path):
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    runtime = build_role_runtime(settings)
    assert runtime.kernel.feed.name == "mock"
    assert "spreads" in [component.name for component in runtime.kernel.components]
    node, lease = node_and_lease(settings)
    assert (node.role, node.state, lease) == ("all", "active", None)


@pytest.mark.parametrize("role", ["ingest", "analytics", "api"])
def test_a_split_role_names_the_settings_it_needs(role, tmp_path):
    settings = settings_for(
        role, tmp_path, store={"url": "sqlite"}, bus={"url": "memory", "prefix": "x"}
    )
    with pytest.raises(SettingsError) as caught:
        build_role_runtime(settings)
    message = str(caught.value)
    assert f"daemon.role = {role}" in message
    assert "bus.url (--bus) must be redis://" in message and "'memory'" in message
    assert "store.url (--store) must be postgresql://" in message and "'sqlite'" in message


def test_an_unknown_role_is_refused_with_the_accepted_ones(tmp_path):
    with pytest.raises(SettingsError, match=r"daemon.role: 'worker' is not a role; use one of all"):
        settings_for("worker", tmp_path)


def test_leased_roles_stand_by_under_one_key_per_role_and_feed(tmp_path):
    for role in ("ingest", "analytics"):
        node, lease = node_and_lease(settings_for(role, tmp_path))
        assert lease is not None
        assert lease.key == f"roles-unit:lease:{role}:mock"
        assert (node.state, node.node_id, lease.node_id) == ("standby", f"{role}-1", f"{role}-1")
    node, lease = node_and_lease(settings_for("api", tmp_path))
    assert lease is None and node.state == "active"

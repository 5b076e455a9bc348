"""docker-compose.yml and deploy/: every gridtui command line in them is one the CLI accepts.

A deployment file is code that no other test runs: a renamed flag or role would
only show on the day someone deploys. Each command is parsed by the real
``gridtui`` parser (``argparse`` exits 2 on anything it does not know).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via schemathesis) ships no stubs

from gridtui.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def gridtui_args(command: str) -> list[str]:
    """The arguments after ``gridtui`` in a command line (inside ``sh -c "… && gridtui …"`` too)."""
    words = shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2].split("&&")[-1])
    assert words[0].endswith("gridtui"), command
    return words[1:]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_split_profile_runs_every_role_on_one_store_and_bus():
    services = compose()["services"]
    split = {name: s for name, s in services.items() if "split" in s.get("profiles", [])}
    roles: dict[str, list[str]] = {}
    for name, service in split.items():
        args = build_parser().parse_args(gridtui_args(service["command"]))
        roles.setdefault(args.role, []).append(args.node_id)
        env = service["environment"]
        assert env["GRIDTUI_STORE_URL"].startswith("postgresql://"), name
        assert env["GRIDTUI_BUS_URL"].startswith("redis://"), name
    assert sorted(roles) == ["analytics", "api", "ingest"]
    assert len(roles["ingest"]) == 2 and len(roles["analytics"]) == 2  # active + standby
    assert len(roles["api"]) == 2
    published = [p for s in split.values() for p in s.get("ports", [])]
    assert published and all(p.startswith("127.0.0.1:") for p in published)


def test_the_single_daemon_still_parses():
    service = compose()["services"]["daemon"]
    args = build_parser().parse_args(gridtui_args(service["command"]))
    assert args.role is None  # "all": today's one process


@pytest.mark.parametrize("role", ["ingest", "analytics", "api"])
def test_the_systemd_template_runs_each_role(role):
    unit = (ROOT / "deploy" / "gridtui-role@.service").read_text()
    (exec_start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    line = exec_start.removeprefix("ExecStart=").replace("%i", role).replace("%H", "host")
    args = build_parser().parse_args(gridtui_args(line))
    assert (args.role, args.node_id, args.host) == (role, f"host-{role}", "127.0.0.1")

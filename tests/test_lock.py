"""The environment the checks run in is exactly the development lock.

``make check`` installs ``requirements-dev.lock`` (with hashes) into ``.venv``;
this test compares what is installed (``pip freeze``) with the lock, so a
hand-installed package or a drifted version fails CI instead of passing on
one machine only. It runs only inside the project's own ``.venv``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# pip-compile --allow-unsafe pins these; pip freeze leaves them out.
NOT_FROZEN = {"pip", "setuptools", "wheel"}


def _pins(lines: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lines:
        found = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line)
        if found:
            name = re.sub(r"[-_.]+", "-", found.group(1)).lower()
            if name not in NOT_FROZEN:
                pins[name] = found.group(2)
    return pins


def test_the_installed_packages_are_exactly_the_development_lock() -> None:
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip(f"not the project's .venv ({sys.prefix}): `make check` installs the lock there")
    locked = _pins((ROOT / "requirements-dev.lock").read_text().splitlines())
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    installed = _pins(frozen)
    assert installed == locked, {
        "not in the lock": sorted(set(installed) - set(locked)),
        "locked, not installed": sorted(set(locked) - set(installed)),
        "other version": sorted(
            f"{n} {installed[n]} (lock {locked[n]})"
            for n in set(installed) & set(locked)
            if installed[n] != locked[n]
        ),
    }


def test_the_run_lock_agrees_with_the_development_lock() -> None:
    run = _pins((ROOT / "requirements.lock").read_text().splitlines())
    dev = _pins((ROOT / "requirements-dev.lock").read_text().splitlines())
    assert run, "requirements.lock pins nothing"
    assert {name: dev.get(name) for name in run} == run

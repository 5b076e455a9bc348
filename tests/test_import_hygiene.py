"""The core never imports a front end, a web framework, an inference runtime or an adapter."""

import subprocess
import sys

FORBIDDEN = ("textual", "aiohttp", "onnxruntime", "rich", "feeds", "models", "gridtui")


def test_importing_the_engine_pulls_in_no_front_end_or_adapter():
    code = (
        "import sys, pkgutil, importlib, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    assert "engine" in loaded
    assert not set(FORBIDDEN) & set(loaded)


def test_engine_never_reads_the_wall_clock_outside_the_clock_module():
    from pathlib import Path

    import engine

    root = Path(engine.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "clock.py"
        and any(s in path.read_text() for s in ("datetime.now(", "time.time()", "utcnow("))
    ]
    assert offenders == []

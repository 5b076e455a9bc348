"""Structured log lines: ``key=value`` text for people, JSON lines for machines.

:func:`setup_logging` (called once by :func:`gridtui.cli.main`) installs one
stderr handler with a formatter and a :class:`RepeatFilter`, so a failure that
repeats (a training job failing the same way every time) shows its traceback
once, then one line per repeat with a count.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from types import TracebackType

import msgspec

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object a line (``--log-format json``), secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


class TextFormatter(logging.Formatter):
    """Log records as readable lines: UTC time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD)
        line = f"{stamp}Z {record.levelname:<7} {record.name}: {record.getMessage()}"
        if extra:
            line += f"  {extra}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


_Key = tuple[type[BaseException], str, str, int]


def _where(tb: TracebackType | None) -> tuple[str, int]:
    """The innermost frame of a traceback: where the exception was raised."""
    if tb is None:
        return "", 0
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename, tb.tb_lineno


class RepeatFilter(logging.Filter):
    """Show a traceback once per ``window_s``; repeats log one line with a count.

    Two records repeat each other when their exceptions have the same type,
    message and place of raising. A repeat inside the window keeps its line
    (each failure is still reported) but loses its traceback and gains
    "(same error as above, repeated N times)". After the window the next one
    shows its traceback again, so a long-running daemon's log stays readable
    from any point. Time is the records' own ``created`` stamp.
    """

    def __init__(self, window_s: float = 300.0) -> None:
        super().__init__()
        self.window_s = window_s
        self._seen: dict[_Key, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        if not info or info[0] is None or info[1] is None:
            return True
        key = (info[0], str(info[1]), *_where(info[2]))
        first, repeats = self._seen.get(key, (-1.0, 0))
        if first < 0 or record.created - first > self.window_s:
            self._seen[key] = (record.created, 0)
            if len(self._seen) > 1_000:  # bounded: forget the oldest kinds
                del self._seen[next(iter(self._seen))]
            return True
        repeats += 1
        self._seen[key] = (first, repeats)
        times = "1 time" if repeats == 1 else f"{repeats} times"
        record.msg = f"{record.getMessage()}: {info[0].__name__}: {info[1]} "
        record.msg += f"(same error as above, repeated {times})"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

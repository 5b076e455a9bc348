"""The daemon's bearer token: made on first start, kept mode 0600, rotatable, never logged.

Every mutating request (any method but GET, HEAD and OPTIONS) and every control
message on the WebSocket must carry ``Authorization: Bearer <token>``. The token
lives in one file (``api.token_file``, default ``DATA_DIR/api-token``) that only
its owner can read. ``gridtui daemon --rotate-token`` writes a new one; a
running daemon notices the file changed (it compares the file's identity on
each check) and accepts only the new token from then on.

The token is compared in constant time, never put in a URL (it would land in
access logs), never logged: :class:`RedactSecrets` is installed on the log
handlers as a last line of defence and replaces it with ``***`` anywhere in a
log line.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from gridtui.settings.loader import redact_url

if TYPE_CHECKING:
    from gridtui.settings.loader import Settings

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenError(RuntimeError):
    """The token file cannot be read or written; the message names the file."""


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)  # whatever the umask said
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def token_path(settings: Settings) -> Path:
    """The daemon's token file: ``api.token_file``, else ``DATA_DIR/api-token``."""
    if settings.api.token_file:
        return Path(settings.api.token_file).expanduser()
    return Path(settings.data_dir) / "api-token"


def client_token(settings: Settings) -> str | None:
    """The token a client sends: ``api.token`` (GRIDTUI_API_TOKEN), else the local token file."""
    if settings.api.token:
        return settings.api.token
    try:
        return read_token(token_path(settings))
    except TokenError:
        return None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def rotate_token(path: Path) -> None:
    """Replace the token in ``path`` by a new one (a running daemon picks it up)."""
    try:
        _write_private(path, new_token())
    except OSError as exc:
        raise TokenError(f"cannot write the API token file {path}: {exc}") from exc


def read_token(path: Path) -> str:
    """The token in ``path``. Raises TokenError when there is none."""
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise TokenError(
            f"cannot read the API token file {path}: {exc.strerror or exc}; it is made by "
            "`gridtui daemon` on its first start"
        ) from exc
    if not token:
        raise TokenError(f"the API token file {path} is empty: run `gridtui daemon --rotate-token`")
    return token


class TokenAuth:
    """Checks bearer tokens against the token file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._token = ""
        self._identity: tuple[int, int, int] | None = None
        self.failures = 0

    @classmethod
    def load_or_create(cls, path: Path) -> tuple[TokenAuth, bool]:
        """Open the token file, making it (mode 0600) if there is none; True when made."""
        created = False
        if not path.exists():
            rotate_token(path)
            created = True
        else:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                log.warning(
                    "API token file %s was readable by others (mode %o); set to 0600", path, mode
                )
                os.chmod(path, 0o600)
        auth = cls(path)
        auth._reload()
        return auth, created

    def _reload(self) -> None:
        info = self.path.stat()
        self._token = read_token(self.path)
        self._identity = (info.st_ino, info.st_mtime_ns, info.st_size)

    def _refresh(self) -> None:
        try:
            info = self.path.stat()
        except OSError:
            return  # keep the token we have: a deleted file must not open the door
        if (info.st_ino, info.st_mtime_ns, info.st_size) != self._identity:
            try:
                self._reload()
                log.info("API token file %s changed: the new token is in force", self.path)
            except TokenError as exc:
                log.error("%s; keeping the previous token", exc)

    @property
    def token(self) -> str:
        """The token in force (for redaction; never log it)."""
        self._refresh()
        return self._token

    def check(self, presented: str | None) -> bool:
        """True when ``presented`` is the token in force (constant-time compare)."""
        self._refresh()
        if not presented or not self._token:
            self.failures += 1
            return False
        ok = hmac.compare_digest(presented.encode(), self._token.encode())
        if not ok:
            self.failures += 1
        return ok

    def check_header(self, authorization: str | None) -> bool:
        """Check an ``Authorization: Bearer <token>`` header value."""
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            self.failures += 1
            return False
        return self.check(presented.strip())


_TRACEBACKS = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Replace secrets in every log line with ``***`` (installed on log handlers)."""

    def __init__(self, *secrets_: str, auth: TokenAuth | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in secrets_ if s]
        self._auth = auth

    def _current(self) -> list[str]:
        found = list(self._secrets)
        if self._auth is not None and self._auth.token:
            found.append(self._auth.token)
        return found

    def _clean(self, text: str, secrets_now: list[str]) -> str:
        for secret in secrets_now:
            text = text.replace(secret, "***")
        # Any URL's password, configured or not (an adapter's error may carry one).
        return redact_url(text)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets_now = self._current()
        message = record.getMessage()
        clean = self._clean(message, secrets_now)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse a filled exc_text: the traceback is cleaned once, here.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        for key, value in list(record.__dict__.items()):
            if isinstance(value, str) and key not in ("msg", "message"):
                cleaned = self._clean(value, secrets_now)
                if cleaned != value:
                    setattr(record, key, cleaned)
        return True


def install_redaction(*secrets_: str, auth: TokenAuth | None = None) -> RedactSecrets:
    """Put a :class:`RedactSecrets` on every handler of the root logger."""
    redactor = RedactSecrets(*secrets_, auth=auth)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor

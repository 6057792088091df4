"""Store URLs: credentials masked wherever a URL is shown or stored, and the database a URL names.

A tracking URI (``http://user:password@host``) or an Optuna storage
(``postgresql://user:password@host/db``) may carry a secret. bench keeps it only in memory, where the
clients need it: everything shown or stored (the terminal, logs, ``study.yaml``, the ``config.yaml``
artifacts, reports, MLflow tags and params, error messages) goes through :func:`mask_url` or
:func:`mask_text` first, which replace the password, and query parameters that hold secrets, with
:data:`MASK`.

:func:`database_file` and :func:`same_store` compare what two URLs *name*, not how they are
spelled: ``sqlite:///x.db?timeout=30`` and ``sqlite+pysqlite:///./x.db`` are the same file.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

MASK = "***"

_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@'\"]*):(?P<secret>[^/\s'\"]*)@")
"""``scheme://user:secret@``: the secret runs to the authority's last ``@`` (an unencoded ``@`` in it too)."""
_BARE_USERINFO = re.compile(r"(?P<head>[A-Za-z0-9._~%+\-]+):(?P<secret>[^\s/@:'\"]+)@(?=[\w\[])")
"""``user:secret@host`` without a scheme, as in a URL a parser rejected (``postgresql//user:pw@host``)."""
_SECRET_PARAM = re.compile(r"(?P<head>[?&;](?:password|passwd|pwd|token|access_token|secret|api_key|apikey)=)"
                           r"(?P<secret>[^&;#\s'\"]+)", re.IGNORECASE)


def mask_text(text: str) -> str:
    """``text`` with the secret of every URL in it masked (error messages, log lines, free text).

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        ``http://user:***@host`` for ``http://user:pw@host``; query parameters such as
        ``password=`` and ``token=`` masked too. Text without credentials is returned unchanged.
    """
    if not isinstance(text, str) or ("@" not in text and "=" not in text):
        return text
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _BARE_USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['head']}{MASK}", text)


def mask_url(url: str | None) -> str | None:
    """A store URL as it may be shown or stored: its password (and secret query parameters) masked."""
    return None if url is None else mask_text(url)


def masked(data: Any) -> Any:
    """A plain structure (mappings, lists, strings) with every string passed through :func:`mask_text`."""
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, dict):
        return {k: masked(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(masked(v) for v in data)
    return data


class MaskingFilter(logging.Filter):
    """A logging filter that masks credentials in every record's message (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = mask_text(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return True


def mask_logs(logger: logging.Logger | None = None) -> None:
    """Attach a :class:`MaskingFilter` to every handler of ``logger`` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


def database_file(url: str) -> Path | None:
    """The resolved file of a SQLite URL (any driver, query ignored); None for other stores and in-memory SQLite.

    ``sqlite:///x.db``, ``sqlite:///x.db?timeout=30``, ``sqlite+pysqlite:///./x.db`` all give ``<cwd>/x.db``.
    """
    ident = _identity(url)
    return Path(ident[1]) if ident is not None and ident[0] == "sqlite" else None


def _identity(url: str) -> tuple[str, ...] | None:
    """(backend, ...) naming the database of an SQLAlchemy URL, or None when it is not one."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # not an SQLAlchemy URL (http://, file:, a typo): no database to compare
        return None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
            return None
        return ("sqlite", str(Path(parsed.database).expanduser().resolve()))
    return (backend, (parsed.host or "").lower(), str(parsed.port or ""), parsed.database or "")


def same_store(a: str, b: str) -> bool:
    """Whether two store URLs name the same database (resolved SQLite files, or backend, host, port, database)."""
    ident_a, ident_b = _identity(a), _identity(b)
    if ident_a is not None and ident_b is not None:
        return ident_a == ident_b
    return a.rstrip("/") == b.rstrip("/")


_OPTUNA_TABLES = {"studies", "trials", "version_info"}
_MLFLOW_TABLES = {"experiments", "runs"}


def sqlite_holds(url: str) -> str | None:
    """Whose schema an existing SQLite database of ``url`` holds: ``"optuna"``, ``"mlflow"`` or None.

    None also for a file that does not exist yet, is not SQLite, or a URL that is not SQLite.
    """
    path = database_file(url)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return None
    if _OPTUNA_TABLES <= tables:
        return "optuna"
    if _MLFLOW_TABLES <= tables:
        return "mlflow"
    return None

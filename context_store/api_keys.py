"""API keys: who may call the HTTP API, with which scopes. Only a hash of each key is stored.

A key reads `hc_<key id>_<secret>`. The key id is public (it names the key in lists, logs and
rate limits); the secret is 32 random bytes. The table keeps sha256 of the whole key: with 256
bits of entropy nothing can be guessed from the hash, so a slow password hash (bcrypt, argon2)
would only add milliseconds to every request. Verification looks the row up by key id and
compares the hashes with `hmac.compare_digest` (constant time).

The table lives in the store's SQLite file, but this module opens its own connection: keys can
be created and revoked while a server holds the data directory (SQLite WAL lets both in), and
a revocation takes effect on the server's next request.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from context_store.sqlite_schema import connect

KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""
PREFIX = "hc_"


@dataclass(frozen=True)
class ApiKey:
    """One key's public facts (never the secret)."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _split(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    if not key.startswith(PREFIX):
        return None
    key_id, sep, secret = key[len(PREFIX):].partition("_")
    return key_id if sep and key_id and secret else None


class KeyTable:
    """Create, list, revoke and verify API keys in the `api_keys` table."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None = None):
        self._conn = conn
        self._lock = lock or threading.RLock()
        with self._lock:
            self._conn.executescript(KEYS_SCHEMA)

    @classmethod
    def open(cls, data_dir: Path | None) -> "KeyTable":
        """A table on its own connection to the data directory's database (in memory without one)."""
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        return cls(connect(data_dir / "hypercorr.sqlite3" if data_dir else None))

    def create(self, name: str, scopes: tuple[str, ...]) -> tuple[ApiKey, str]:
        """Store a new key; returns its facts and the key itself (shown once, never stored)."""
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        row = ApiKey(key_id, name, tuple(sorted(set(scopes))), datetime.now(timezone.utc).isoformat(), None)
        with self._lock:
            self._conn.execute("INSERT INTO api_keys (key_id, name, scopes, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                               (row.key_id, row.name, ",".join(row.scopes), _hash(key), row.created_at))
        return row, key

    def list(self) -> list[ApiKey]:
        """Every key, oldest first, revoked ones included."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key_id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at").fetchall()
        return [ApiKey(r[0], r[1], tuple(filter(None, r[2].split(","))), r[3], r[4]) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by its id; False when there is no such active key."""
        with self._lock:
            cursor = self._conn.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                                        (datetime.now(timezone.utc).isoformat(), key_id))
        return cursor.rowcount == 1

    def has_active(self) -> bool:
        """Whether any key is configured and not revoked."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    def verify(self, key: str) -> ApiKey | None:
        """The active key matching `key`, or None (unknown, malformed, revoked or wrong secret)."""
        key_id = _split(key)
        if key_id is None:
            return None
        with self._lock:
            row = self._conn.execute("SELECT key_hash, name, scopes, created_at, revoked_at FROM api_keys "
                                     "WHERE key_id = ?", (key_id,)).fetchone()
        if row is None or not hmac.compare_digest(_hash(key), row[0]) or row[4] is not None:
            return None
        return ApiKey(key_id, row[1], tuple(filter(None, row[2].split(","))), row[3], row[4])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

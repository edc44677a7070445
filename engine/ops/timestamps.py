"""RFC 3339 timestamps as Go services (Alertmanager, Prometheus) write them."""
from __future__ import annotations

import re
from datetime import datetime, timezone

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")
GO_ZERO_YEAR = 1  # Go's zero time.Time (0001-01-01T00:00:00Z) means "not set"


def parse_rfc3339(value: str) -> datetime | None:
    """A timezone-aware UTC datetime; None for Go's zero time. Raises ValueError when malformed.

    Go writes up to nine fractional digits (nanoseconds); Python keeps microseconds, so the
    fraction is truncated to six digits rather than rejected.
    """
    match = _RFC3339.match(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value[:60]!r}")
    day, clock, fraction, zone = match.groups()
    micro = f".{(fraction or '0')[:6]:0<6}"
    parsed = datetime.fromisoformat(f"{day}T{clock}{micro}{'+00:00' if zone in 'Zz' else zone}")
    if parsed.year == GO_ZERO_YEAR:
        return None
    return parsed.astimezone(timezone.utc)

"""EventIn validation and content hashing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from engine.events import MAX_TEXT_CHARS, MAX_TITLE_CHARS, EventIn, EventKind, Level
from engine.filters import RelatedFilters

BASE: dict[str, Any] = {"id": "fb-1", "title": "Failed transaction", "text": "Paying invoice failed",
                        "user_id": "u-1042", "systems": ["payments"], "occurred_at": "2026-03-02T09:14:00Z"}


def error_locs(payload: dict[str, Any]) -> list[tuple]:
    """The `loc` of every validation error of a payload (fails if it validates)."""
    with pytest.raises(ValidationError) as excinfo:
        EventIn.model_validate(payload)
    return [tuple(e["loc"]) for e in excinfo.value.errors()]


def test_valid_event_defaults_and_normalises() -> None:
    """Defaults apply, whitespace is stripped, timestamps become UTC."""
    event = EventIn.model_validate({"id": " a ", "text": "  hello  ", "occurred_at": "2026-03-02T10:00:00+02:00"})
    assert (event.id, event.text, event.kind, event.title) == ("a", "hello", EventKind.feedback, "")
    assert event.occurred_at == datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert EventIn(id="b", title="only a title").text == ""


def test_resolved_time_defaults_to_now() -> None:
    """Without occurred_at the event happened now (timezone-aware)."""
    before = datetime.now(timezone.utc)
    resolved = EventIn(id="a", text="x").resolved_time()
    assert before <= resolved <= datetime.now(timezone.utc)


@pytest.mark.parametrize("blank", [{"title": "", "text": ""}, {"title": "   ", "text": " \n "}, {"title": "  "}])
def test_blank_title_and_text_is_an_error_on_text(blank: dict[str, str]) -> None:
    """A report needs words: the error names the text field."""
    payload = {k: v for k, v in BASE.items() if k not in ("title", "text")} | blank
    assert error_locs(payload) == [("text",)]


@pytest.mark.parametrize("stamp", ["2026-03-02T09:14:00", "2026-03-02"])
def test_naive_timestamp_is_an_error_on_occurred_at(stamp: str) -> None:
    """Timestamps must carry a timezone."""
    assert error_locs(BASE | {"occurred_at": stamp}) == [("occurred_at",)]


@pytest.mark.parametrize(("field", "size"), [("text", MAX_TEXT_CHARS + 1), ("title", MAX_TITLE_CHARS + 1),
                                             ("id", 201), ("channel", 51)])
def test_oversized_fields(field: str, size: int) -> None:
    """Every length cap is enforced on its own field; the limit itself is accepted."""
    assert error_locs(BASE | {field: "x" * size}) == [(field,)]
    EventIn.model_validate(BASE | {field: "x" * (size - 1)})


def test_unknown_fields_are_rejected() -> None:
    """Extra fields are an error named after the field."""
    assert error_locs(BASE | {"severity": "high"}) == [("severity",)]


@pytest.mark.parametrize(("field", "value"), [("systems", "payments"), ("title", 5), ("occurred_at", "yesterday"),
                                              ("attributes", {"a": 1}), ("user_id", ""), ("id", "")])
def test_wrong_types(field: str, value: Any) -> None:
    """Wrong types and empty ids are rejected on their field."""
    assert error_locs(BASE | {field: value})[0][0] == field


@pytest.mark.parametrize(("field", "value"), [("kind", "incident"), ("impact", "huge"), ("urgency", "HIGH")])
def test_bad_enums(field: str, value: str) -> None:
    """kind, impact and urgency accept only their documented values."""
    assert error_locs(BASE | {field: value}) == [(field,)]


def test_enums_accept_documented_values() -> None:
    """All kinds and levels validate."""
    for kind in ("feedback", "alert", "change"):
        assert EventIn.model_validate(BASE | {"kind": kind}).kind.value == kind
    event = EventIn.model_validate(BASE | {"impact": "critical", "urgency": "low"})
    assert (event.impact, event.urgency) == (Level.critical, Level.low)


def test_systems_are_cleaned_and_deduplicated() -> None:
    """System names are stripped and de-duplicated in order; blank or huge names are errors."""
    event = EventIn.model_validate(BASE | {"systems": [" payments ", "auth", "payments", "auth "]})
    assert event.systems == ["payments", "auth"]
    assert error_locs(BASE | {"systems": ["payments", "  "]}) == [("systems",)]
    assert error_locs(BASE | {"systems": ["x" * 101]}) == [("systems",)]
    assert error_locs(BASE | {"systems": ["s"] * 51})[0][0] == "systems"


def test_content_hash_is_stable_and_sensitive() -> None:
    """Equal content hashes equally (also after normalisation); any change alters it."""
    event = EventIn.model_validate(BASE)
    same = EventIn.model_validate(BASE | {"occurred_at": "2026-03-02T10:14:00+01:00",
                                          "text": " Paying invoice failed "})
    assert event.content_hash() == same.content_hash() == EventIn.model_validate(dict(BASE)).content_hash()
    assert len(event.content_hash()) == 64
    for change in ({"text": "Paying invoice failed!"}, {"title": "Failed"}, {"systems": ["checkout"]},
                   {"user_id": "u-2"}, {"kind": "alert"}, {"occurred_at": "2026-03-02T09:15:00Z"},
                   {"impact": "low"}, {"attributes": {"site": "hq"}}, {"channel": "chat"}):
        assert EventIn.model_validate(BASE | change).content_hash() != event.content_hash(), change


def test_oversized_title_alone_reports_only_title() -> None:
    """An oversized title with an empty text is one error, on title."""
    assert error_locs(BASE | {"title": "x" * (MAX_TITLE_CHARS + 1), "text": ""}) == [("title",)]


@pytest.mark.parametrize("stamp", [1700000000, 1.7e9, "1700000000", True])
def test_epoch_numbers_are_not_timestamps(stamp: object) -> None:
    """Only ISO 8601 strings are timestamps (found by schema fuzzing: pydantic read numbers as epoch seconds)."""
    assert error_locs(BASE | {"occurred_at": stamp}) == [("occurred_at",)]
    with pytest.raises(ValidationError):
        RelatedFilters(since=stamp)

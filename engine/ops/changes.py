"""Change events: deployments, configuration changes and feature flags.

A change is an ordinary event of kind `change`; what makes it one is kept in attributes
(`change_type`, `version`, `author`, `flag`), so `POST /v1/events` with `kind: "change"` and those
attributes stores the same thing as `POST /v1/changes`, which is only a convenience with
defaults: a title from the type, systems and version, and an id derived from the content.
"""
from __future__ import annotations

import hashlib
import json
from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from engine.events import MAX_ATTRIBUTES, MAX_ID_CHARS, MAX_SYSTEMS, MAX_TEXT_CHARS, EventIn, EventKind

CHANNELS = {"deployment": "deploy", "config": "config", "feature_flag": "feature-flag"}
LABELS = {"deployment": "Deployment", "config": "Configuration change", "feature_flag": "Feature flag"}


class ChangeType(str, Enum):
    """What kind of change."""

    deployment = "deployment"
    config = "config"
    feature_flag = "feature_flag"


class ChangeIn(BaseModel):
    """A change as a deploy pipeline or a flag service reports it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(None, min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[^/\x00-\x1f]+$",
                           description="Default: 'chg-' + a hash of the change, so a re-post is a no-op.")
    change_type: ChangeType = ChangeType.deployment
    systems: list[str] = Field(min_length=1, max_length=MAX_SYSTEMS, description="Systems the change touched.")
    version: str | None = Field(None, min_length=1, max_length=200)
    flag: str | None = Field(None, min_length=1, max_length=200, description="Feature flag name (and state).")
    title: str = Field("", max_length=500, description="Default: '<type>: <systems> <version>'.")
    description: str = Field("", max_length=MAX_TEXT_CHARS)
    author: str | None = Field(None, min_length=1, max_length=200)
    occurred_at: AwareDatetime | None = Field(None, description="ISO 8601 with a timezone; default: now.")
    attributes: dict[str, str] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES - 4)

    def default_title(self) -> str:
        """'Deployment: checkout 2.3', 'Feature flag: checkout new-payment-flow=on', ..."""
        what = " ".join([", ".join(self.systems), *(v for v in (self.version, self.flag) if v)])
        return f"{LABELS[self.change_type.value]}: {what}"[:500]

    def to_event(self) -> EventIn:
        """The `change` event (validated like any event: timestamps need a timezone, ...)."""
        attributes = dict(self.attributes) | {"change_type": self.change_type.value}
        attributes.update({k: v for k, v in (("version", self.version), ("flag", self.flag),
                                              ("author", self.author)) if v})
        event = EventIn(id="pending", kind=EventKind.change, title=self.title or self.default_title(),
                        text=self.description, systems=self.systems, channel=CHANNELS[self.change_type.value],
                        occurred_at=self.occurred_at, attributes=attributes)
        event = event.model_copy(update={"occurred_at": event.resolved_time()})
        return event.model_copy(update={"id": self.id or _derived_id(event)})


def _derived_id(event: EventIn) -> str:
    payload = event.model_dump(mode="json", exclude={"id"}, exclude_none=True)
    return "chg-" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

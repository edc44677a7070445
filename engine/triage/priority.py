"""Priority from impact x urgency (the ITIL-style 4 x 4 matrix), inferring what the reporter left out.

Levels rank critical=1, high=2, medium=3, low=4; priority follows their sum:

    impact \\ urgency   critical  high  medium  low
    critical            P1        P1    P2      P2
    high                P1        P2    P2      P3
    medium              P2        P2    P3      P4
    low                 P2        P3    P4      P4

A level the reporter gave is taken as is (confidence 1). A missing level is inferred:
impact from scope words in the text ("all users", "production down", "data loss") and from
context (how many other people reported similar things in the last 3 days); urgency from
time-pressure words ("urgent", "blocked", "deadline", "asap") and the category (an enhancement
or a how-to question is rarely urgent). Inferred levels carry lower confidence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.triage.model import Category, Inferred

LEVELS = ("critical", "high", "medium", "low")
RANK = {level: i + 1 for i, level in enumerate(LEVELS)}
PRIORITY_BY_SUM = {2: "P1", 3: "P1", 4: "P2", 5: "P2", 6: "P3", 7: "P4", 8: "P4"}

IMPACT_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("critical", re.compile(r"\b(outage|production (is )?down|system down|data (loss|corruption)|"
                            r"security (breach|incident)|nobody can|no one can|all (users|customers|stores|sites))\b")),
    ("high", re.compile(r"\b(everyone|many (users|people|customers)|whole (team|department|office)|all of us|"
                        r"several (users|people|teams)|entire|company-?wide|every (user|store|branch))\b")),
    ("low", re.compile(r"\b(cosmetic|typo|minor|small (issue|thing)|nice to have|alignment|spelling)\b")),
)
URGENCY_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("critical", re.compile(r"\b(emergency|immediately|right now|asap|as soon as possible|critical|"
                            r"cannot work|can'?t work|payroll run|month[- ]end close)\b")),
    ("high", re.compile(r"\b(urgent(ly)?|blocked|blocking|deadline|today|by tomorrow|stuck|still not|again)\b")),
    ("low", re.compile(r"\b(when you (have|get) (time|a chance)|no rush|not urgent|whenever|someday|"
                       r"would be nice|suggestion)\b")),
)
CATEGORY_URGENCY = {Category.software_bug: "medium", Category.performance_issue: "medium",
                    Category.configuration_error: "medium", Category.user_training_need: "low",
                    Category.enhancement_request: "low", Category.documentation_error: "low",
                    Category.other: "medium"}


def matrix(impact: str, urgency: str) -> str:
    """P1..P4 for an impact and an urgency level."""
    return PRIORITY_BY_SUM[RANK[impact] + RANK[urgency]]


@dataclass(frozen=True)
class Level:
    """A level with its confidence and where it came from."""

    value: str
    confidence: float
    source: str


PRIORITY_CHARS = 1_500  # scope and time-pressure words are read from the start of the report


def _cue_level(text: str, cues: tuple[tuple[str, re.Pattern[str]], ...]) -> str | None:
    head = text[:PRIORITY_CHARS].lower()
    for level, pattern in cues:
        if pattern.search(head):
            return level
    return None


def infer_impact(given: str | None, text: str, similar_reporters: int) -> Level:
    """Impact: as given, else scope words, else how many others reported similar things lately."""
    if given:
        return Level(given, 1.0, "reporter")
    cue = _cue_level(text, IMPACT_CUES)
    if cue:
        return Level(cue, 0.7, "text")
    if similar_reporters >= 5:
        return Level("high", 0.6, f"{similar_reporters} other people reported similar issues in 3 days")
    if similar_reporters >= 2:
        return Level("medium", 0.55, f"{similar_reporters} other people reported similar issues in 3 days")
    return Level("low" if similar_reporters == 0 else "medium", 0.4, "one reporter")


def infer_urgency(given: str | None, text: str, category: Category) -> Level:
    """Urgency: as given, else time-pressure words, else what the category usually needs."""
    if given:
        return Level(given, 1.0, "reporter")
    cue = _cue_level(text, URGENCY_CUES)
    if cue:
        return Level(cue, 0.7, "text")
    return Level(CATEGORY_URGENCY[category], 0.4, f"usual for {category.value}")


def suggest_priority(impact: Level, urgency: Level) -> Inferred:
    """The matrix cell, with the weaker of the two confidences."""
    return Inferred(matrix(impact.value, urgency.value), min(impact.confidence, urgency.confidence),
                    {"impact": impact.value, "impact_source": impact.source,
                     "urgency": urgency.value, "urgency_source": urgency.source})

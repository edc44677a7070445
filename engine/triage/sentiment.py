"""Sentiment with VADER's shipped lexicon (Hutto & Gilbert 2014), adapted to support traffic.

Two adaptations, both from the domain rather than from the evaluation set:
- politeness and function words that VADER scores positive but that every support request
  carries ("please", "help", "yes", "ok", "sure", "like", "well", "support") count as neutral,
  and words for software failure VADER lacks ("crashes", "bug", "declined", ...) count negative;
- a failure said with a negation ("doesn't work", "did not go through", "can't log in",
  "didn't make this payment") moves the score down, since VADER has no valence for "work".
"""
from __future__ import annotations

import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engine.triage.model import Inferred

POSITIVE_AT = 0.3  # support text is mostly neutral: mild positive words are politeness, not praise
NEGATIVE_AT = -0.05
VADER_POSITIVE_AT = 0.05  # VADER's own thresholds (the baseline)
VADER_NEGATIVE_AT = -0.05
NEGATED_FAILURE_SHIFT = 0.5
SENTIMENT_CHARS = 1_500  # long reports: the opening carries the tone; stack traces do not

DOMAIN_VALENCE: dict[str, float] = {
    "please": 0.0, "help": 0.0, "helps": 0.0, "yes": 0.0, "ok": 0.0, "okay": 0.0, "sure": 0.0, "like": 0.0,
    "well": 0.0, "support": 0.0, "supported": 0.0, "save": 0.0, "free": 0.0, "kill": -0.5, "killed": -0.5,
    "cancel": 0.0, "cancelled": 0.0, "critical": 0.0, "block": -0.5, "matches": 0.0, "credit": 0.0,
    "accept": 0.0, "allow": 0.0, "pending": -0.3,
    "crashes": -1.7, "crashed": -1.7, "bug": -1.5, "bugs": -1.5, "exception": -1.0, "declined": -1.5,
    "unauthorized": -1.5, "unauthorised": -1.5, "incorrect": -1.5, "freezes": -1.2, "frozen": -1.0,
    "timeout": -1.2, "slow": -1.0, "reverted": -1.0, "npe": -1.5, "unable": -1.2, "flaky": -1.2,
}

NEGATED_FAILURE = re.compile(
    r"\b(not|never|cannot|can'?t|won'?t|didn'?t|don'?t|doesn'?t|isn'?t|hasn'?t|haven'?t|wasn'?t|"
    r"unable to|still)\s+(?:\w+\s+){0,3}?(work|working|works|load|loading|go through|gone through|arrive[d]?|"
    r"accept(ed|ing)?|"
    r"receive[d]?|recogni[sz]e[d]?|show(ing|n)? up|update[d]?|respond(ing)?|open|start|log ?in|sign ?in|"
    r"make|made|authori[sz]ed?|find|see|mine|pending|waiting|processing|figure)\b", re.IGNORECASE)


class WindowedVader(SentimentIntensityAnalyzer):
    """Stock VADER, with its negation check handed only the words it reads.

    VADER's `_negation_check` lower-cases the whole text's word list on every call (up to three
    calls per sentiment word), which made long reports quadratic. It reads only the three words
    before position i, so it gets those four words, with i moved to match: the same scores.
    """

    @staticmethod
    def _negation_check(valence: float, words_and_emoticons: list[str], start_i: int, i: int) -> float:
        first = max(0, i - 3)
        return SentimentIntensityAnalyzer._negation_check(valence, words_and_emoticons[first:i + 1], start_i,
                                                          i - first)


class SentimentScorer:
    """VADER compound score with the domain lexicon; positive from 0.3, negative from -0.05."""

    def __init__(self) -> None:
        self._vader = WindowedVader()
        self._vader.lexicon.update(DOMAIN_VALENCE)

    def score(self, text: str) -> float:
        """Compound score in [-1, 1] after the negated-failure shift."""
        head = text[:SENTIMENT_CHARS]
        compound = float(self._vader.polarity_scores(head)["compound"])
        if NEGATED_FAILURE.search(head):
            compound -= NEGATED_FAILURE_SHIFT
        return max(-1.0, min(1.0, compound))

    def classify(self, text: str) -> Inferred:
        """negative | neutral | positive, with the score and a confidence from the margin."""
        value = self.score(text)
        if value >= POSITIVE_AT:
            label, margin, span = "positive", value - POSITIVE_AT, 1.0 - POSITIVE_AT
        elif value <= NEGATIVE_AT:
            label, margin, span = "negative", NEGATIVE_AT - value, 1.0 + NEGATIVE_AT
        else:
            label, margin, span = "neutral", min(value - NEGATIVE_AT, POSITIVE_AT - value), POSITIVE_AT
        confidence = 0.5 + 0.5 * min(1.0, margin / (0.5 * span))
        return Inferred(label, confidence, {"score": round(value, 4)})


def plain_vader_label(analyzer: SentimentIntensityAnalyzer, text: str) -> str:
    """The baseline: stock VADER with its standard +-0.05 thresholds."""
    compound = analyzer.polarity_scores(text[:SENTIMENT_CHARS])["compound"]
    return "positive" if compound >= VADER_POSITIVE_AT else "negative" if compound <= VADER_NEGATIVE_AT else "neutral"

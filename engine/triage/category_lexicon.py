"""What each category means: short descriptions the embedder turns into prototypes, and cue
patterns (words a reporter uses for that kind of report). Written from the category definitions,
in generic enterprise-software terms, not from any evaluation set."""
from __future__ import annotations

import re

from engine.triage.model import Category

PROTOTYPES: dict[Category, tuple[str, ...]] = {
    Category.software_bug: (
        "The application shows an error message and the action fails.",
        "It crashes with an exception when I click save.",
        "The system calculated the wrong amount; the result is incorrect.",
        "The feature stopped working after the update.",
        "My payment failed and the money was taken but nothing happened.",
        "The page does not load data, the button does nothing.",
        "A null pointer exception is thrown in the service when the input is empty.",
        "The record was saved twice; duplicate entries appear.",
        "The job fails with an error in the log and the test does not pass.",
        "The method returns the wrong value; the code handles this case incorrectly.",
    ),
    Category.configuration_error: (
        "I do not have permission to open this screen; access denied.",
        "My account is locked or blocked and I cannot sign in.",
        "The setting is configured wrongly for our department.",
        "The default configuration value is wrong and must be changed.",
        "My role is missing the rights it needs; please grant access.",
        "The environment points to the wrong server address in the config file.",
    ),
    Category.performance_issue: (
        "The system is very slow; pages take minutes to load.",
        "The request times out before it completes.",
        "The transaction has been pending for days and is still processing.",
        "High latency and long response times since this morning.",
        "The report runs for hours and uses too much memory.",
        "Everything freezes and is unresponsive under load.",
    ),
    Category.user_training_need: (
        "How do I do this? I don't know where to find the option.",
        "Can you explain how this works and what the steps are?",
        "Where can I see my balance and how do I change my details?",
        "What does this fee mean and why was I charged it?",
        "Is it possible to use this with my other account?",
        "I am not sure how to activate and set it up.",
    ),
    Category.enhancement_request: (
        "It would be nice to have an export button; please add this feature.",
        "Feature request: support for another option would help us.",
        "Suggestion: make the screen show more columns.",
        "Improve the workflow so it needs fewer clicks.",
        "Add a new capability to the interface for this use case.",
        "Upgrade the library to the newer version.",
    ),
    Category.documentation_error: (
        "The documentation is wrong and describes an old version.",
        "The user guide has a typo and a broken link.",
        "The help page instructions are outdated and misleading.",
        "The manual is missing the section on this setting.",
        "The help text in the online guide describes the wrong steps.",
    ),
    Category.other: (
        "I want to close my account.",
        "Please cancel my request and refund me.",
        "My card was lost or stolen.",
        "I did not make this transaction; someone else used my account.",
        "I have not received my delivery yet.",
        "Please update my address and contact me.",
    ),
}

_CUE_PATTERNS: dict[Category, str] = {
    Category.software_bug: r"\b(error|errors|exception|crash(es|ed|ing)?|bug|broken|fail(s|ed|ing|ure)?|"
                           r"not work(ing)?|doesn'?t work|stopped working|wrong|incorrect|npe|stack ?trace)\b",
    Category.configuration_error: r"\b(permission|access denied|not allowed|forbidden|unauthori[sz]ed|locked|"
                                  r"blocked|config(uration|ured)?|setting|misconfigur\w*|role|credentials?)\b",
    Category.performance_issue: r"\b(slow(ly|ness)?|latency|time ?outs?|timed out|timing out|hangs?|freez(e|es|ing)|"
                                r"pending|takes? (too )?long|performance|unresponsive|memory leak|lag)\b",
    Category.user_training_need: r"(^|\W)(how (do|can|to|long|much|many)|where (can|do|is)|what (is|are|does)|"
                                 r"can i|is it possible|explain|instructions?|don'?t know how)\b",
    Category.enhancement_request: r"\b(feature|enhancement|would be nice|please add|add support|suggest(ion)?|"
                                  r"improve(ment)?|support for|upgrade|wish)\b",
    Category.documentation_error: r"\b(documentation|docs?|javadoc|readme|manual|user guide|help page|typo|"
                                  r"site page|release notes?)\b",
}

CUES: dict[Category, re.Pattern[str]] = {c: re.compile(p) for c, p in _CUE_PATTERNS.items()}  # on lowercased text

"""Text preparation for the two relevance signals.

- Semantic: one string per event for the sentence embedder.
- Lexical: the analyzer the context store indexes terms with, and the query terms to match
  against them. Bug and ticket text is identifier-heavy, so identifiers such as
  ``NativeAzureFsOutputStream`` or ``fs.s3a.endpoint`` are indexed both whole and in parts.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

import snowballstemmer

from context_store import LexicalTerms

EMBED_CHAR_LIMIT = 2_000  # the model reads 256 word pieces; more text only costs tokenising

# A token is a run of letters and digits (as SQLite's unicode61 tokenizer sees it).
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_IDENTIFIER = re.compile(r"\b\w*(?:[a-z][A-Z]|[A-Za-z]\d|\d[A-Za-z])\w*\b")

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves also get got gets using use used
would should could may might must shall via per etc e g ie eg
""".split())


def embedding_text(title: str, text: str) -> str:
    """The string embedded for an event: title, then body, capped in length."""
    joined = f"{title}. {text}" if title and text else (title or text)
    return joined[:EMBED_CHAR_LIMIT]


def _fold(token: str) -> str:
    if token.isascii():
        return token.lower()
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Lower-cased, accent-folded word tokens."""
    return [_fold(t) for t in _TOKEN.findall(text)]


_STEMMER = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem of a lower-cased word; words with digits stay whole."""
    if any(c.isdigit() for c in word):
        return word
    return _STEMMER.stemWord(word)


def is_content(word: str) -> bool:
    """Whether a token carries content: two characters or more, not a stopword."""
    return len(word) > 1 and word not in STOPWORDS


def identifier_parts(text: str) -> list[str]:
    """Split camelCase / alphanumeric identifiers into their lower-cased parts."""
    parts: list[str] = []
    for identifier in _IDENTIFIER.findall(text):
        pieces = [p.lower() for p in _CAMEL_PART.findall(identifier)]
        if len(pieces) > 1:
            parts.extend(pieces)
    return parts


def lexical_field(text: str) -> str:
    """Text for the lexical index: the original words plus split identifier parts."""
    extra = identifier_parts(text)
    return f"{text}\n{' '.join(extra)}" if extra else text


class EventAnalyzer:
    """The lexical analyzer the engine gives the context store.

    Both columns are read as `lexical_field` tokens. An event's length counts every token
    (stopwords too, as BM25 length normalisation expects); only content terms (no stopwords, two
    characters or more) are kept, stemmed: the same terms `content_terms` makes of a query.
    """

    version = "hypercorr-text-2"  # 2: Snowball stems

    def __call__(self, title: str, text: str) -> LexicalTerms:
        """Per-term (title count, body count) and the event's length in tokens."""
        counts: dict[str, list[int]] = {}
        length = 0
        for column, field in enumerate((title, text)):
            words = tokens(lexical_field(field)) if field else []
            length += len(words)
            for word in words:
                if is_content(word):
                    counts.setdefault(stem(word), [0, 0])[column] += 1
        return LexicalTerms({t: (a, b) for t, (a, b) in counts.items()}, length)


ANALYZER = EventAnalyzer()


def content_words(text: str) -> list[str]:
    """The content words of a text, as written (folded): whole tokens, then identifier parts."""
    return [w for w in tokens(text) + identifier_parts(text) if is_content(w)]


def distinct_stems(words: Iterable[str]) -> list[str]:
    """The stems of `words`, each once, in order of first appearance."""
    return list(dict.fromkeys(stem(w) for w in words))


def content_terms(text: str) -> list[str]:
    """Distinct index terms (stems of content words) of a text, in order of first appearance."""
    return distinct_stems(content_words(text))


def surface_forms(texts: Iterable[str]) -> dict[str, str]:
    """For each index term of the texts, the word it most often stands for there (for display)."""
    return forms_of_words(w for text in texts for w in content_words(text))


def forms_of_words(words: Iterable[str]) -> dict[str, str]:
    """For each stem of `words`, the word it most often stands for among them."""
    seen = Counter(words)
    forms: dict[str, str] = {}
    for word, _ in seen.most_common():  # most frequent first; ties keep first appearance
        forms.setdefault(stem(word), word)
    return forms


def rarest_terms(terms: list[str], max_terms: int, document_frequency: Callable[[Iterable[str]], dict[str, int]],
                 min_df: int = 1, max_df: int | None = None, keep_common_below: int = 0) -> list[str]:
    """The query terms (distinct, in text order) that occur in at least `min_df` stored events,
    rarest first, at most `max_terms`; beyond the first `keep_common_below` of them, terms found in
    more than `max_df` events are left out.

    Terms that occur nowhere else cannot match anything; the rarest remaining terms carry the
    most information, so long reports keep those when they exceed `max_terms`. A long report's
    most common words add little to its BM25 ranking and are the costliest to read (like
    Lucene's MoreLikeThis `maxDocFreq`); a short query keeps every word it has.
    """
    if not terms:
        return []
    frequencies = document_frequency(terms)
    usable = [t for t in terms if frequencies.get(t, 0) >= min_df]
    usable.sort(key=lambda t: frequencies[t])  # stable: ties keep text order
    if max_df is not None:
        usable = usable[:keep_common_below] + [t for t in usable[keep_common_below:] if frequencies[t] <= max_df]
    return usable[:max_terms]

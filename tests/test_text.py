"""Text preparation: tokens, identifier parts, lexical fields, content terms, query-term selection."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from engine import text as textprep


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello, World_x 42!", ["hello", "world", "x", "42"]),
    ("fs.s3a.endpoint", ["fs", "s3a", "endpoint"]),
    ("SKU-3310 Zürich", ["sku", "3310", "zurich"]),
    ("  ...  ", []),
])
def test_tokens(text: str, expected: list[str]) -> None:
    """Runs of letters and digits, lower-cased; underscores and punctuation split."""
    assert textprep.tokens(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("NativeAzureFsOutputStream", ["native", "azure", "fs", "output", "stream"]),
    ("HTTPServerError", ["http", "server", "error"]),
    ("getHTTPResponse2", ["get", "http", "response", "2"]),
    ("fs.s3a.endpoint", ["s", "3", "a"]),
    ("INV2024", ["inv", "2024"]),
    ("plain words ABC lower", []),
])
def test_identifier_parts(text: str, expected: list[str]) -> None:
    """camelCase, acronym and letter/digit boundaries split; plain words yield nothing."""
    assert textprep.identifier_parts(text) == expected


def test_lexical_field_appends_parts_only_for_identifiers() -> None:
    """Identifiers are indexed whole and in parts; plain text is unchanged."""
    assert textprep.lexical_field("call NativeAzureFs now") == "call NativeAzureFs now\nnative azure fs"
    assert textprep.lexical_field("plain words") == "plain words"


def test_content_terms() -> None:
    """Distinct stems, in order, without stopwords or one-letter terms, with identifier parts appended."""
    terms = textprep.content_terms("The NativeAzureFs failed: the job FAILED in a loop, failing x")
    assert terms == ["nativeazuref", "fail", "job", "loop", "nativ", "azur", "fs"]
    assert textprep.content_terms("the and of a") == []


def test_surface_forms_show_each_stem_as_written() -> None:
    """Each stem maps to the word it most often stands for (first seen on ties)."""
    forms = textprep.surface_forms(["payments failed", "payment failing, payments declined"])
    assert forms["payment"] == "payments" and forms["fail"] == "failed" and forms["declin"] == "declined"


def test_embedding_text_joins_and_caps() -> None:
    """Title and body are joined; either may be missing; length is capped."""
    assert textprep.embedding_text("Login loop", "SSO fails") == "Login loop. SSO fails"
    assert textprep.embedding_text("", "SSO fails") == "SSO fails"
    assert textprep.embedding_text("Login loop", "") == "Login loop"
    assert len(textprep.embedding_text("a" * 3000, "b")) == textprep.EMBED_CHAR_LIMIT


def frequency_lookup(frequencies: dict[str, int], asked: list[list[str]]) -> Callable[[Iterable[str]], dict[str, int]]:
    """A document-frequency callback over a fixed table that records what it was asked."""
    def df(terms: Iterable[str]) -> dict[str, int]:
        terms = list(terms)
        asked.append(terms)
        return {t: frequencies.get(t, 0) for t in terms}
    return df


def test_rarest_terms_picks_rarest_indexed_terms() -> None:
    """Highest-IDF (rarest) indexed terms come first, unindexed ones are dropped, the cap applies."""
    asked: list[list[str]] = []
    df = frequency_lookup({"payment": 90, "page": 40, "timeout": 3, "gateway": 1, "slow": 60}, asked)
    text = "payments page slow timeout gateway unknownword the"
    assert textprep.rarest_terms(textprep.content_terms(text), 3, df) == ["gateway", "timeout", "page"]
    assert asked == [["payment", "page", "slow", "timeout", "gateway", "unknownword"]]  # stems are asked
    assert textprep.rarest_terms(textprep.content_terms(text), 10, df) == ["gateway", "timeout", "page", "slow", "payment"]


def test_rarest_terms_min_df_and_ties() -> None:
    """min_df drops terms seen only in the query's own event; equal frequencies keep text order."""
    df = frequency_lookup({"login": 1, "loop": 2, "sso": 2, "redirect": 5}, [])
    assert textprep.rarest_terms(textprep.content_terms("redirect sso login loop"), 10, df) == ["login", "sso", "loop", "redirect"]
    assert textprep.rarest_terms(textprep.content_terms("redirect sso login loop"), 10, df, min_df=2) == ["sso", "loop", "redirect"]
    assert textprep.rarest_terms(textprep.content_terms("the and of"), 10, df) == []


def test_rarest_terms_leave_common_terms_out_of_long_queries_only() -> None:
    """Beyond the first `keep_common_below` rarest terms, terms above `max_df` are left out; a query
    with no more terms than that keeps every one of them."""
    df = frequency_lookup({"gateway": 1, "timeout": 3, "page": 40, "slow": 60, "payment": 90}, [])
    text = "payments page slow timeout gateway"
    assert textprep.rarest_terms(textprep.content_terms(text), 10, df, max_df=50, keep_common_below=2) == \
        ["gateway", "timeout", "page"]
    assert textprep.rarest_terms(textprep.content_terms(text), 10, df, max_df=50, keep_common_below=5) == \
        ["gateway", "timeout", "page", "slow", "payment"]
    assert textprep.rarest_terms(textprep.content_terms("payments slow"), 10, df, max_df=50) == []

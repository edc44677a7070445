"""Narratives, fast: agglomeration, stable ids, the streaming clusterer, views, tables, persistence.

Synthetic numpy vectors and the hashing embedder only (the real model is in test_narratives_real).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score

from context_store import EventRecord, LinkRow, MemberRow, NewEvent, create_store
from engine import Engine, EventIn, Settings
from engine import text as textprep
from engine.ingest import to_record
from engine.narratives import agglomerate as agglomerate_module
from engine.narratives.agglomerate import agglomerate
from engine.narratives.clusterer import BINS, ClusterParams, StreamingClusterer
from engine.narratives.identity import plan_ids
from engine.narratives.views import (SYMPTOM_SIMILARITY, distinctive_terms, highest, status_of,
                                     symptom_timeline)
from tests.fakes import HashingEmbedder

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def clustered(seed: int, centers: int = 6, per: int = 12, dim: int = 24, noise: float = 0.35) -> np.ndarray:
    """Normalised points around random centres (shuffled)."""
    rng = np.random.default_rng(seed)
    middle = unit_rows(rng.normal(size=(centers, dim)))
    points = np.repeat(middle, per, axis=0) + noise * rng.normal(size=(centers * per, dim)) / np.sqrt(dim)
    return unit_rows(points[rng.permutation(len(points))])


def groups_of(labels: list[int]) -> dict[int, set[int]]:
    """Label -> member indices."""
    out: dict[int, set[int]] = {}
    for i, label in enumerate(labels):
        out.setdefault(label, set()).add(i)
    return out


def reference_upgma(vectors: np.ndarray, cut: float, must: list[tuple[int, int]] = (),
                    cannot: list[tuple[int, int]] = ()) -> list[int]:
    """Naive greedy average linkage over items (must-link groups first, cannot-link never merges)."""
    clusters: list[set[int]] = [{i} for i in range(len(vectors))]
    for a, b in must:
        ca = next(c for c in clusters if a in c)
        cb = next(c for c in clusters if b in c)
        if ca is not cb:
            ca |= cb
            clusters.remove(cb)
    banned = {frozenset(p) for p in cannot}
    sim = vectors @ vectors.T

    def allowed(x: set[int], y: set[int]) -> bool:
        return not any(frozenset((i, j)) in banned for i in x for j in y)

    while True:
        best, pair = cut, None
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                score = sim[np.ix_(sorted(clusters[i]), sorted(clusters[j]))].mean()
                if score > best and allowed(clusters[i], clusters[j]):
                    best, pair = score, (i, j)
        if pair is None:
            break
        i, j = pair
        clusters[i] |= clusters[j]
        del clusters[j]
    label = [0] * len(vectors)
    for c in clusters:
        for i in c:
            label[i] = min(c)
    return label


# ---- agglomerate --------------------------------------------------------------------------
@pytest.fixture(params=["matrix", "computed"])
def similarities(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with the k x k similarity matrix (small inputs) and with rows computed on demand (large)."""
    if request.param == "computed":
        monkeypatch.setattr(agglomerate_module, "DENSE_LIMIT", 0)
    return request.param


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("noise", [0.35, 1.0])
@pytest.mark.parametrize("cut", [0.1, 0.2, 0.45, 0.7])
def test_agglomerate_equals_sklearn_average_cosine(seed: int, noise: float, cut: float, similarities: str) -> None:
    """Unweighted items: exactly sklearn's average/cosine linkage cut at distance 1 - cut."""
    x = clustered(seed, noise=noise)
    ours = agglomerate(x.copy(), np.ones(len(x)), cut)
    theirs = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=1.0 - cut).fit_predict(x)
    assert adjusted_rand_score(theirs, ours) == 1.0
    assert all(label == min(members) for label, members in groups_of(ours).items())


@pytest.mark.parametrize("seed", [7, 8])
def test_agglomerate_weighted_groups_are_exact_upgma_over_items(seed: int, similarities: str) -> None:
    """Groups given as (sum, count) cluster exactly like average linkage over their items started from them."""
    x = clustered(seed, centers=4, per=8)
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(len(x))]
    pre: list[list[int]] = []
    while order:  # an arbitrary partition into groups of 1-3 items
        size = int(rng.integers(1, 4))
        pre.append(order[:size])
        order = order[size:]
    sums = np.stack([x[g].sum(axis=0) for g in pre])
    counts = np.array([len(g) for g in pre], dtype=float)
    grouped = agglomerate(sums, counts, 0.3)
    item_labels = [0] * len(x)
    for k, g in enumerate(pre):
        for i in g:
            item_labels[i] = grouped[k]
    must = [(g[0], i) for g in pre for i in g[1:]]
    reference = reference_upgma(x, 0.3, must)
    assert adjusted_rand_score(reference, item_labels) == 1.0
    assert 1 < len(set(reference)) < len(pre)  # the cut is neither trivial nor total


def test_agglomerate_must_link_joins_far_apart_groups() -> None:
    """A must-link pair ends together even when the two are orthogonal."""
    x = np.eye(4)
    labels = agglomerate(x.copy(), np.ones(4), 0.5, must_link=[(3, 1)])
    assert labels == [0, 1, 2, 1]
    assert agglomerate(x.copy(), np.ones(4), 0.5) == [0, 1, 2, 3]
    assert agglomerate(np.zeros((0, 4)), np.zeros(0), 0.5) == []


def test_agglomerate_cannot_link_blocks_direct_and_transitive_merges() -> None:
    """a~b~c in a chain: with cannot(a, c), c may not reach a through b's group either."""
    a = np.array([1.0, 0.0, 0.0])
    b = unit_rows(np.array([[1.0, 1.0, 0.0]]))[0]
    c = np.array([0.0, 1.0, 0.0])
    x = np.stack([a, b, c])
    assert len(set(agglomerate(x.copy(), np.ones(3), 0.3))) == 1  # unconstrained: one group
    labels = agglomerate(x.copy(), np.ones(3), 0.3, cannot_link=[(0, 2)])
    assert labels[0] != labels[2]
    assert labels[1] in (labels[0], labels[2])
    # cannot-link through a must-linked partner: (0, 1) must, (1, 2) cannot -> 0 and 2 apart
    labels = agglomerate(x.copy(), np.ones(3), 0.3, must_link=[(0, 1)], cannot_link=[(1, 2)])
    assert labels[0] == labels[1] != labels[2]


@pytest.mark.parametrize("seed", range(6))
def test_agglomerate_random_constraints_are_honoured(seed: int, similarities: str) -> None:
    """Random must/cannot pairs: every must pair together, no group holds a cannot pair."""
    x = clustered(seed, centers=4, per=10)
    rng = np.random.default_rng(100 + seed)
    must = [tuple(int(v) for v in rng.choice(len(x), 2, replace=False)) for _ in range(4)]
    components = groups_of(agglomerate(np.eye(len(x)), np.ones(len(x)), 2.0, must_link=must))  # no merging
    component_of = {i: k for k, members in components.items() for i in members}
    cannot = []
    while len(cannot) < 12:
        a, b = (int(v) for v in rng.choice(len(x), 2, replace=False))
        if component_of[a] != component_of[b]:
            cannot.append((a, b))
    labels = agglomerate(x.copy(), np.ones(len(x)), 0.1, must_link=must, cannot_link=cannot)
    assert all(labels[a] == labels[b] for a, b in must)
    assert all(labels[a] != labels[b] for a, b in cannot)
    assert adjusted_rand_score(reference_upgma(x, 0.1, must, cannot), labels) == 1.0


def test_small_groups_join_the_most_similar_large_group_they_may_join() -> None:
    """After linkage, a group below `min_size` joins the large group it is most similar to when that
    beats `absorb_at`, skipping a large group that holds a cannot-link partner; else it stays alone."""
    clusterer = StreamingClusterer(4)  # in warm-up: linkage cut 0.8 - 0.3 = 0.5, absorption from 0.3
    for micro, direction in enumerate(([1.0, 0, 0, 0], [0, 1.0, 0, 0])):  # two large groups
        clusterer.new_micro(100 * micro, np.array(direction), f"N{micro}")
        for member in range(1, clusterer.params.min_size):
            clusterer.add_to_micro(micro, 100 * micro + member, np.array(direction))
    for seq, vector in ((1000, [0.4, 0, 0.9165, 0]), (1001, [0.4, 0.35, 0, 0.85]), (1002, [0.2, 0, -0.6, -0.77])):
        clusterer.new_micro(seq, unit_rows(np.array([vector]))[0], f"S{seq}")
    assert sorted(map(sorted, clusterer.regroup())) == [[0, 2, 3], [1], [4]]  # 0.4 to the first beats 0.35
    assert sorted(map(sorted, clusterer.regroup(cannot_link=[(3, 0)]))) == [[0, 2], [1, 3], [4]]


# ---- plan_ids -----------------------------------------------------------------------------
def test_plan_ids_unchanged_groups_keep_their_ids() -> None:
    """Nothing moved: every group keeps its id, no lineage."""
    plan = plan_ids([["N-000001", "N-000001"], ["N-000002"]])
    assert plan.group_ids == ["N-000001", "N-000002"] and plan.absorbed == {} and plan.split_parents == {}


def test_plan_ids_merge_keeps_the_oldest_id_and_records_absorbed() -> None:
    """A merge keeps the smallest (oldest) id even when the younger one brings more members."""
    plan = plan_ids([["N-000005", "N-000005", "N-000005", "N-000002", "N-000009"], ["N-000007"]])
    assert plan.group_ids == ["N-000002", "N-000007"]
    assert plan.absorbed == {"N-000005": 0, "N-000009": 0} and plan.split_parents == {}


def test_plan_ids_split_gets_a_parent() -> None:
    """The majority keeps the id; the split-off group is new with the old id as parent."""
    plan = plan_ids([["N-000003"], ["N-000003", "N-000003"]])
    assert plan.group_ids == [None, "N-000003"] and plan.split_parents == {0: "N-000003"}
    tie = plan_ids([["N-000004", "N-000001"], ["N-000004", "N-000001"]])  # ties: the earlier group is home
    assert tie.group_ids == ["N-000001", None]
    assert tie.absorbed == {"N-000004": 0} and set(tie.split_parents) == {1}
    assert tie.split_parents[1] in {"N-000001", "N-000004"}  # equal contributions: either is the parent
    parent = plan_ids([["N-000001"] * 3, ["N-000002", "N-000001", "N-000002"]])
    assert parent.group_ids == ["N-000001", "N-000002"]  # N-000002's home is group 1: no split
    split = plan_ids([["N-000001"] * 3 + ["N-000002"] * 3, ["N-000001", "N-000002", "N-000002"]])
    assert split.group_ids == ["N-000001", None] and split.absorbed == {"N-000002": 0}
    assert split.split_parents == {1: "N-000002"}  # the id contributing most members


def test_plan_ids_matches_its_definition_on_random_groups() -> None:
    """The one-pass home finding equals the rule as written (for every old id, the group holding
    most of its members, ties to the earlier group; each group keeps its oldest id at home)."""
    import random
    from collections import Counter

    rng = random.Random(7)
    for _ in range(300):
        ids = [f"N-{i:06d}" for i in rng.sample(range(1, 30), rng.randint(1, 8))]
        groups = [[rng.choice(ids) for _ in range(rng.randint(0, 6))] for _ in range(rng.randint(1, 6))]
        counts = [Counter(g) for g in groups]
        olds = sorted({i for g in groups for i in g})
        home = {old: max(range(len(groups)), key=lambda k: (counts[k][old], -k)) for old in olds}
        expected = [min((o for o in olds if home[o] == k), default=None) for k in range(len(groups))]
        plan = plan_ids(groups)
        assert plan.group_ids == expected
        assert plan.absorbed == {o: home[o] for o in olds if o not in expected}


def test_plan_ids_reserved_id_is_never_absorbed() -> None:
    """An id a person's pin holds elsewhere stays alive even when its free members merge away."""
    plan = plan_ids([["N-000001", "N-000002"], ["N-000003"]], reserved={"N-000002"})
    assert plan.group_ids == ["N-000001", "N-000003"] and plan.absorbed == {}


def test_plan_ids_reserved_id_can_still_be_a_free_group_id() -> None:
    """A reserved id that is a free group's home still names that group."""
    plan = plan_ids([["N-000003"], ["N-000001", "N-000003", "N-000003"]], reserved={"N-000003"})
    assert plan.group_ids == [None, "N-000001"] or plan.group_ids[1] == "N-000001"
    assert "N-000003" not in plan.absorbed


def test_plan_ids_no_old_id_is_orphaned() -> None:
    """Every old id is kept by a group or recorded as absorbed."""
    plan = plan_ids([["N-000002"], ["N-000002", "N-000002", "N-000003"]])
    kept = {i for i in plan.group_ids if i}
    assert {"N-000002", "N-000003"} <= kept | set(plan.absorbed)
    assert plan.group_ids == [None, "N-000002"] and plan.absorbed == {"N-000003": 1}
    assert plan.split_parents == {0: "N-000002"}


# ---- StreamingClusterer --------------------------------------------------------------------
def test_clusterer_warmup_then_running_median() -> None:
    """The prior during warm-up, then the median of the observed nn similarities (histogram bins)."""
    params = ClusterParams(warmup=5, warmup_median=0.8, delta=0.3)
    c = StreamingClusterer(4, params)
    values = [0.1, 0.9, 0.33, 0.62, 0.95, 0.4, -0.2, 0.55, 0.71, 0.48, 0.05]
    for k, v in enumerate(values[:4]):
        c.observe_nn(v)
        assert c.micro_threshold == 0.8 and c.narrative_threshold == pytest.approx(0.5)
    for k in range(4, len(values)):
        c.observe_nn(values[k])
        assert c.observed == k + 1
        seen = sorted(values[: k + 1])
        expected = seen[len(seen) // 2]  # odd: the median; even: the upper middle
        assert c.micro_threshold == pytest.approx(expected, abs=1.0 / BINS + 1e-9)
        assert c.narrative_threshold == pytest.approx(c.micro_threshold - 0.3)
    c.observe_nn(1.0)  # the top edge goes into the last bin
    c.observe_nn(-1.0)
    assert c.observed == len(values) + 2


def test_clusterer_median_of_many() -> None:
    """A large random sample: the histogram median is within a bin width of numpy's."""
    c = StreamingClusterer(3)
    values = np.random.default_rng(3).uniform(-0.2, 0.95, size=301)
    for v in values:
        c.observe_nn(float(v))
    assert c.micro_threshold == pytest.approx(float(np.median(values)), abs=1.0 / BINS + 1e-9)


def test_clusterer_members_sums_and_scores() -> None:
    """Adding and removing members keeps sums and counts; scores are exact average links."""
    rng = np.random.default_rng(5)
    vectors = unit_rows(rng.normal(size=(7, 6)))
    c = StreamingClusterer(6)
    assert c.best_micro(vectors[0]) == (None, -1.0) and c.narrative_scores(vectors[0]) == {}
    m0 = c.new_micro(10, vectors[0], "N-A")
    c.add_to_micro(m0, 11, vectors[1])
    m1 = c.new_micro(12, vectors[2], "N-A")
    m2 = c.new_micro(13, vectors[3], "N-B", root=99)
    c.add_to_micro(m2, 14, vectors[4])
    assert c.micro_members == [[10, 11], [12], [13, 14]] and c.micro_roots == [10, 12, 99]
    assert c.micro_of(14) == m2 and c.micro_of(77) is None and c.since_consolidation == 5
    q = vectors[6]
    scores = c.narrative_scores(q)
    assert scores["N-A"] == pytest.approx(float(np.mean(vectors[[0, 1, 2]] @ q)))
    assert scores["N-B"] == pytest.approx(float(np.mean(vectors[[3, 4]] @ q)))
    best, score = c.best_micro(q)
    micro_scores = [np.mean(vectors[[0, 1]] @ q), vectors[2] @ q, np.mean(vectors[[3, 4]] @ q)]
    assert best == int(np.argmax(micro_scores)) and score == pytest.approx(max(micro_scores))
    c.remove_member(11, vectors[1])
    assert c.micro_members[m0] == [10] and c._counts[m0] == 1
    np.testing.assert_allclose(c._sums[m0], vectors[0], atol=1e-12)
    c.remove_member(12, vectors[2])  # empties micro 1: it is dropped, later indices shift
    assert c.micro_members == [[10], [13, 14]] and c.micro_narrative == ["N-A", "N-B"] and c.micro_roots == [10, 99]
    assert c.narrative_scores(q)["N-A"] == pytest.approx(float(vectors[0] @ q))
    c.remove_member(12345, vectors[0])  # unknown seq: nothing happens
    assert len(c.micro_members) == 2
    c.relabel({0: "N-B"})
    assert set(c.narrative_scores(q)) == {"N-B"}
    assert c.narrative_scores(q)["N-B"] == pytest.approx(float(np.mean(vectors[[0, 3, 4]] @ q)))


def test_regroup_absorbs_small_groups_into_a_large_one() -> None:
    """Groups smaller than min_size join the best large group above absorb_at; others stay apart."""
    c = StreamingClusterer(4)  # warm-up: cut T = 0.5
    for i in range(8):
        c.new_micro(i, unit_rows(np.array([[1.0, 0.01 * i, 0, 0]]))[0], "N-L")
    c.new_micro(8, unit_rows(np.array([[0.4, 0.92, 0, 0]]))[0], "N-s")  # 0.4 to the large group
    c.new_micro(9, np.array([0, 0, 0, 1.0]), "N-t")  # unrelated
    groups = sorted(sorted(g) for g in c.regroup())
    assert groups == [list(range(9)), [9]]
    assert c.since_consolidation == 0


def test_regroup_never_violates_cannot_link_through_absorption() -> None:
    """Two small groups with a cannot-link between them must not both be absorbed into one group."""
    c = StreamingClusterer(4)
    for i in range(8):
        c.new_micro(i, unit_rows(np.array([[1.0, 0.01 * i, 0, 0]]))[0], "N-L")
    c.new_micro(8, unit_rows(np.array([[0.4, 0.92, 0, 0]]))[0], "N-s1")
    c.new_micro(9, unit_rows(np.array([[0.4, 0, 0.92, 0]]))[0], "N-s2")
    groups = c.regroup([], [(8, 9)])
    assert not any({8, 9} <= set(g) for g in groups)


# ---- views ----------------------------------------------------------------------------------
def record(event_id: str, seq: int, hours: float, text: str, *, title: str = "", user: str | None = None,
           systems: tuple[str, ...] = (), impact: str | None = None, urgency: str | None = None) -> EventRecord:
    """A stored-looking record."""
    return EventRecord(id=event_id, kind="feedback", title=title, text=text, user_id=user, systems=systems,
                       channel=None, occurred_at=T0 + timedelta(hours=hours), impact=impact, urgency=urgency,
                       attributes={}, content_hash=f"h-{event_id}", ingested_at=T0, seq=seq)


def test_distinctive_terms_prefers_terms_shared_in_the_narrative_and_rare_overall() -> None:
    """Class TF-IDF: terms (stems) in several members, weighted by rarity across the store, shown as written."""
    members = [record("a", 1, 0, "invoice export stuck"), record("b", 2, 1, "invoices exported failed again"),
               record("c", 3, 2, "invoice batch stuck", title="Export")]
    df = {textprep.stem("invoice"): 90, textprep.stem("export"): 3, textprep.stem("stuck"): 10}
    asked: list[set[str]] = []

    def frequency(terms: Any) -> dict[str, int]:
        asked.append(set(terms))
        return {t: df.get(t, 1) for t in terms}

    terms = distinctive_terms(members, frequency, total_documents=100)
    assert terms == ["export", "stuck", "invoice"]  # 'failed' and 'batch' appear once only
    # stopwords ('again') are not terms; "invoices"/"exported" count with "invoice"/"export"
    assert asked == [{textprep.stem(w) for w in ("invoice", "export", "stuck", "failed", "batch")}]
    assert distinctive_terms(members, frequency, 100, count=1) == ["export"]
    single = distinctive_terms([record("d", 4, 0, "printer toner empty")], lambda t: {"printer": 50}, 100)
    assert single == ["empty", "toner", "printer"]  # one member: all its terms are eligible
    assert distinctive_terms([record("e", 5, 0, "the and of")], frequency, 100) == []


def test_symptom_timeline_orders_by_first_appearance_and_counts() -> None:
    """Members given in any order; symptoms by first report, members close to it counted with it."""
    a, b, c = np.eye(3)
    near_a = unit_rows(np.array([[0.9, 0.1, 0.0]]))[0]
    near_b = unit_rows(np.array([[0.0, 0.7, 0.6]]))[0]  # 0.76 to b, 0.65 to c
    far_b = unit_rows(np.array([[0.0, 0.5, 0.87]]))[0]  # 0.5 to b, 0.87 to c
    members = [record("b1", 2, 24, "page not responding"), record("a2", 4, 48, "payment failed again"),
               record("a1", 1, 0, "payment failed", title="Payment failed"),
               record("c1", 3, 36, "slow loading"), record("b2", 5, 60, "page frozen"),
               record("c2", 6, 72, "very slow")]
    vectors = np.stack([b, near_a, a, c, near_b, far_b])
    assert b @ near_b >= SYMPTOM_SIMILARITY > b @ far_b
    symptoms = symptom_timeline(members, vectors)
    assert [s.label for s in symptoms] == ["Payment failed", "page not responding", "slow loading"]
    assert [s.count for s in symptoms] == [2, 2, 2]
    assert [s.event_ids for s in symptoms] == [["a1", "a2"], ["b1", "b2"], ["c1", "c2"]]
    assert symptoms[0].first_seen == T0 and symptoms[0].last_seen == T0 + timedelta(hours=48)
    assert symptoms[2].first_seen == T0 + timedelta(hours=36) and symptoms[2].last_seen == T0 + timedelta(hours=72)
    # below SYMPTOM_SIMILARITY to every symptom: a symptom of its own
    lone = symptom_timeline(members[:1] + [record("x", 9, 99, "other")], np.stack([b, far_b]))
    assert [s.count for s in lone] == [1, 1]


def test_status_lifecycle() -> None:
    """emerging > active > cooling > dormant by the stream clock; resolved until a later report."""
    clock = T0 + timedelta(days=30)
    day = timedelta(days=1)
    assert status_of(clock - day, clock - 2 * day, None, clock) == "emerging"
    assert status_of(clock - day, clock - 10 * day, None, clock) == "active"
    assert status_of(clock - 3 * day, clock - 10 * day, None, clock) == "active"
    assert status_of(clock - 5 * day, clock - 10 * day, None, clock) == "cooling"
    assert status_of(clock - 7 * day, clock - 10 * day, None, clock) == "cooling"
    assert status_of(clock - 8 * day, clock - 10 * day, None, clock) == "dormant"
    last = clock - 8 * day
    assert status_of(last, clock - 10 * day, last + day, clock) == "resolved"
    assert status_of(last, clock - 10 * day, last, clock) == "resolved"  # resolved at the last report
    # a later report reopens it: the status follows activity again
    reopened_last = last + 2 * day
    assert status_of(reopened_last, clock - 10 * day, last + day, clock) == "cooling"
    assert status_of(clock, clock - 10 * day, last + day, clock) == "active"
    assert status_of(clock, clock - day, clock - day, clock) == "emerging"


def test_highest_levels() -> None:
    """The most severe level present, ignoring missing and unknown values."""
    assert highest(["low", None, "critical", "medium"]) == "critical"
    assert highest(["medium", "low", "high"]) == "high"
    assert highest([None, "bogus"]) is None and highest([]) is None


# ---- NarrativeTables (memory store) ----------------------------------------------------------
DIM = 4


def new_event(event_id: str, vector: np.ndarray, user: str | None = "u1", hours: float = 0.0) -> NewEvent:
    """A storable event with a given vector."""
    r = record(event_id, 0, hours, f"text of {event_id}", user=user)
    return NewEvent(r, np.asarray(vector, dtype=np.float32))


@pytest.fixture
def memory_store() -> Any:
    """An empty in-memory store."""
    return create_store("memory", None, DIM, "test-model")


def test_tables_ids_increment_and_are_never_reused(memory_store: Any) -> None:
    """N-000001, N-000002, ...; absorbing one does not free its number."""
    tables = memory_store.narratives
    with memory_store.transaction() as t:
        first, second = t.create(T0), t.create(T0, parent_id=None)
    assert (first, second) == ("N-000001", "N-000002")
    tables.absorb(second, first, T0, "auto")
    third = tables.create(T0 + timedelta(hours=1), parent_id=first)
    assert third == "N-000003"
    assert tables.get(third).parent_id == first and tables.get(third).created_at == T0 + timedelta(hours=1)
    assert tables.live_ids() == ["N-000001", "N-000003"] and tables.get("N-999999") is None


def test_tables_rollback_does_not_consume_an_id(memory_store: Any) -> None:
    """An id created in a rolled-back transaction is not visible; the counter rolls back too."""
    with pytest.raises(RuntimeError):
        with memory_store.transaction() as t:
            t.create(T0)
            raise RuntimeError("boom")
    assert memory_store.narratives.live_ids() == []
    assert memory_store.narratives.create(T0) == "N-000001"


def test_tables_survivor_follows_merge_chains_and_lineage(memory_store: Any) -> None:
    """Absorbing moves members, survivor follows chains, lineage records both directions."""
    tables = memory_store.narratives
    seqs = memory_store.add_events([new_event(f"e{i}", np.eye(DIM)[i % DIM]) for i in range(3)])
    ids = [tables.create(T0) for _ in range(3)]
    tables.assign([MemberRow(s, n, s, 0.5, "auto") for s, n in zip(seqs, ids)], T0)
    tables.absorb(ids[2], ids[1], T0, "auto")
    tables.absorb(ids[1], ids[0], T0 + timedelta(hours=1), "person")
    assert tables.survivor(ids[2]) == ids[0] and tables.survivor(ids[0]) == ids[0]
    assert tables.survivor("N-404") is None
    assert [s for s, _ in tables.members(ids[0])] == seqs and tables.members(ids[2]) == []
    assert tables.narrative_of(seqs) == {s: ids[0] for s in seqs}
    assert [(r.relation, r.other_id, r.by) for r in tables.lineage(ids[1])] == [
        ("absorbed", ids[2], "auto"), ("merged_into", ids[0], "person")]
    assert [(r.relation, r.other_id) for r in tables.lineage(ids[0])] == [("absorbed", ids[1])]
    assert [(r.relation, r.other_id) for r in tables.lineage(ids[2])] == [("merged_into", ids[1])]
    tables.add_lineage(ids[0], "split_from", "N-000077", T0, "auto")
    assert tables.lineage(ids[0])[-1].relation == "split_from"


def test_tables_feedback_pairs_are_unordered(memory_store: Any) -> None:
    """(a, b) and (b, a) are one pair; the latest verdict wins."""
    tables = memory_store.narratives
    tables.set_feedback("z-event", "a-event", "confirm", T0)
    assert tables.feedback() == {("a-event", "z-event"): "confirm"}
    tables.set_feedback("a-event", "z-event", "reject", T0 + timedelta(hours=1))
    assert tables.feedback() == {("a-event", "z-event"): "reject"}


def test_tables_user_erasure_forgets_memberships_links_and_feedback(memory_store: Any) -> None:
    """Erasing a user cascades its memberships and links and drops feedback naming its events."""
    tables = memory_store.narratives
    seqs = memory_store.add_events([new_event("mine", np.eye(DIM)[0], user="u1"),
                                    new_event("theirs", np.eye(DIM)[1], user="u2"),
                                    new_event("other", np.eye(DIM)[2], user="u3")])
    narrative = tables.create(T0)
    tables.assign([MemberRow(s, narrative, s, 0.1, "auto") for s in seqs], T0)
    tables.add_links([LinkRow(seqs[1], seqs[0], 0.4, {"semantic": 0.4}),
                      LinkRow(seqs[2], seqs[1], 0.3, {"semantic": 0.3})])
    tables.set_feedback("mine", "theirs", "confirm", T0)
    tables.set_feedback("theirs", "other", "reject", T0)
    assert memory_store.delete_user("u1") == 1
    assert [r.seq for r in tables.all_memberships()] == seqs[1:]
    assert [(l.later_seq, l.earlier_seq) for l in tables.links_touching(seqs)] == [(seqs[2], seqs[1])]
    assert tables.feedback() == {("other", "theirs"): "reject"}
    assert tables.unassigned_seqs() == []


def test_tables_links_and_context_pairs(memory_store: Any) -> None:
    """Links are replaced per pair; context pairs select by the evidence flag."""
    tables = memory_store.narratives
    seqs = memory_store.add_events([new_event(f"e{i}", np.eye(DIM)[i]) for i in range(3)])
    tables.add_links([LinkRow(seqs[1], seqs[0], 0.2, {"context_link": True}),
                      LinkRow(seqs[2], seqs[0], 0.9, {"context_link": False, "context_veto": True})])
    tables.add_links([LinkRow(seqs[1], seqs[0], 0.25, {"context_link": True})])
    assert {(l.later_seq, l.score) for l in tables.links_touching([seqs[0]])} == {(seqs[1], 0.25), (seqs[2], 0.9)}
    assert [tuple(p) for p in tables.context_pairs()] == [(seqs[1], seqs[0])]
    assert [tuple(p) for p in tables.context_pairs("context_veto")] == [(seqs[2], seqs[0])]
    assert tables.unassigned_seqs() == seqs


# ---- the service through the engine (hashing embedder) ----------------------------------------
def ev(event_id: str, text: str, user: str | None, system: str | None, day: float, **extra: Any) -> EventIn:
    """A validated event on day `day` of March 2026."""
    return EventIn.model_validate({"id": event_id, "text": text, "user_id": user,
                                   "systems": [system] if system else [],
                                   "occurred_at": (T0 + timedelta(days=day)).isoformat(), **extra})


def hashing_engine(**settings: Any) -> Engine:
    """An engine with the hashing embedder."""
    return Engine(Settings(**({"backend": "memory"} | settings)), embedder=HashingEmbedder(256))


def test_engine_context_lifts_a_loosely_related_report() -> None:
    """Same user, shared system, two days apart, 0.25 text: one narrative, the link says why."""
    engine = hashing_engine()
    first = engine.ingest([ev("a", "supplier invoice payment failed", "u1", "payments", 2)])
    second = engine.ingest([ev("b", "invoice screen frozen completely", "u1", "payments", 3)])
    assert first[0].narrative_id == second[0].narrative_id == "N-000001"
    (link,) = engine.store.narratives.links_touching([engine.get_event("b").seq])
    assert link.evidence["context_link"] is True and link.evidence["same_user"] is True
    assert link.evidence["shared_systems"] == ["payments"] and link.evidence["time_gap_hours"] == -24.0
    # without the shared context (another user) the same two reports stay apart
    other = hashing_engine()
    other.ingest([ev("a", "supplier invoice payment failed", "u1", "payments", 2)])
    (outcome,) = other.ingest([ev("b", "invoice screen frozen completely", "u2", "payments", 3)])
    assert outcome.narrative_id == "N-000002"
    (link,) = other.store.narratives.links_touching([other.get_event("b").seq])
    assert link.evidence["context_link"] is False and link.evidence["same_user"] is False


def test_engine_context_lift_within_one_batch() -> None:
    """The same two reports as one batch land in one narrative, as they do one by one."""
    engine = hashing_engine()
    outcomes = engine.ingest([ev("a", "supplier invoice payment failed", "u1", "payments", 2),
                              ev("b", "invoice screen frozen completely", "u1", "payments", 3)])
    assert outcomes[0].narrative_id == outcomes[1].narrative_id


def test_nearest_earlier_does_not_depend_on_batching() -> None:
    """An event's best earlier neighbour (the running median's input) is the same whether the
    reports arrive one by one or as one batch whose later members crowd the search."""
    texts = ["printer toner empty on floor five"] + ["printer toner empty"] * 14
    by_batch, one_by_one = hashing_engine(), hashing_engine()
    by_batch.ingest([ev("e0", texts[0], "u0", "printers", 1)])
    by_batch.ingest([ev(f"e{i}", t, f"u{i}", "printers", 1 + i / 100) for i, t in enumerate(texts) if i])
    for i, text in enumerate(texts):
        one_by_one.ingest([ev(f"e{i}", text, f"u{i}", "printers", 1 + i / 100)])
    nn = [[round(r.nn, 5) for r in e.store.narratives.all_memberships()] for e in (by_batch, one_by_one)]
    assert nn[0] == nn[1] and nn[0][1] > 0.5  # the batch's first member still finds e0


def test_engine_veto_keeps_identical_wording_apart_across_systems_and_months() -> None:
    """Different systems, 90 days apart: identical text opens a new narrative, the link is marked."""
    engine = hashing_engine()
    engine.ingest([ev("a", "printer toner empty now", "u1", "printers", 0)])
    far = engine.ingest([ev("b", "printer toner empty now", "u2", "crm", 90)])
    near = engine.ingest([ev("c", "printer toner empty now", "u3", "printers", 1)])
    assert far[0].narrative_id != "N-000001" and near[0].narrative_id == "N-000001"
    links = {l.earlier_seq: l.evidence for l in engine.store.narratives.links_touching([engine.get_event("b").seq])
             if l.later_seq == engine.get_event("b").seq}
    assert links[engine.get_event("a").seq]["context_veto"] is True
    engine.narratives.consolidate()
    assert engine.narrative_of("b") != engine.narrative_of("a") == "N-000001"


def test_feedback_reject_splits_and_confirm_merges_keeping_the_older_id() -> None:
    """Reject = cannot-link (a split with a parent); confirm = must-link (a merge keeping the older id)."""
    engine = hashing_engine()
    engine.ingest([ev("p1", "printer toner empty now", "u1", "printers", 0)])
    engine.ingest([ev("p2", "printer toner low now", "u2", "printers", 0.1)])  # 0.75: same narrative, own micro
    engine.ingest([ev("v1", "vpn drops every hour", "u3", "vpn", 0.2)])
    assert engine.narrative_of("p1") == engine.narrative_of("p2") == "N-000001"
    assert engine.narrative_of("v1") == "N-000002"
    tables = engine.store.narratives
    tables.set_feedback("p2", "p1", "reject", T0)
    result = engine.narratives.consolidate()
    assert result["split"] == 1
    assert engine.narrative_of("p1") == "N-000001"
    split_id = engine.narrative_of("p2")
    assert split_id not in ("N-000001", "N-000002")
    assert tables.get(split_id).parent_id == "N-000001"
    assert [(r.relation, r.other_id) for r in tables.lineage(split_id)] == [("split_from", "N-000001")]
    assert engine.narratives.pair_verdict("p1", "p2") == "reject"
    # confirm a pair across two narratives: they merge and the older id survives
    tables.set_feedback("v1", "p2", "confirm", T0)
    result = engine.narratives.consolidate()
    assert result["merged"] == 1
    assert engine.narrative_of("v1") == engine.narrative_of("p2") == "N-000002"
    assert tables.survivor(split_id) == "N-000002"
    assert ("absorbed", split_id) in [(r.relation, r.other_id) for r in tables.lineage("N-000002")]
    assert engine.narrative_of("p1") == "N-000001"  # still kept apart from p2 by the rejection


def moved_engine() -> Engine:
    """p1 and p2 (near-identical printer reports) in N-000001, v1 in N-000002; a person moved p2 to N-000002."""
    engine = hashing_engine()
    engine.ingest([ev("p1", "printer toner empty now", "u1", "printers", 0),
                   ev("v1", "vpn drops every hour", "u3", "vpn", 0.2),
                   ev("p2", "printer toner empty now again", "u2", "printers", 0.3)])
    assert (engine.narrative_of("p1"), engine.narrative_of("p2"), engine.narrative_of("v1")) == (
        "N-000001", "N-000001", "N-000002")
    assert engine.move_event("p2", "N-000002") == "N-000002"
    assert engine.narrative_of("p2") == "N-000002"
    return engine


def test_person_move_is_pinned_through_consolidation() -> None:
    """The moved event keeps the id a person gave it (assigned_by='person') after consolidation."""
    engine = moved_engine()
    engine.narratives.consolidate()
    assert engine.narrative_of("p2") == "N-000002"
    row = next(r for r in engine.store.narratives.all_memberships() if r.seq == engine.get_event("p2").seq)
    assert row.assigned_by == "person"


def test_person_move_keeps_the_event_with_the_narrative_it_was_moved_to() -> None:
    """After consolidation p2 is still with v1 in N-000002, and p1 still in the older N-000001."""
    engine = moved_engine()
    engine.narratives.consolidate()
    assert engine.narrative_of("v1") == engine.narrative_of("p2") == "N-000002"
    assert engine.narrative_of("p1") == "N-000001"


def test_erase_user_also_clears_the_clusterer() -> None:
    """After erasure the clusterer holds only stored events (as a restart would rebuild it)."""
    engine = hashing_engine()
    engine.ingest([ev("a", "supplier invoice payment failed", "u1", "payments", 2),
                   ev("b", "printer toner empty now", "u2", "printers", 3)])
    engine.erase_user("u1")
    held = {seq for members in engine.narratives.clusterer.micro_members for seq in members}
    assert held == {engine.get_event("b").seq}


# ---- persistence (embedded store) --------------------------------------------------------------
CORPUS = [
    ("n1", "printer toner empty on floor three", "u1", "printers", 0),
    ("n2", "printer toner empty on floor four", "u2", "printers", 0.5),
    ("n3", "vpn connection drops every hour", "u3", "vpn", 1),
    ("n4", "vpn connection drops after login", "u4", "vpn", 1.5),
    ("n5", "supplier invoice payment failed", "u5", "payments", 2),
    ("n6", "invoice screen frozen completely", "u5", "payments", 3),
    ("n7", "outlook calendar invites not syncing", "u6", "email", 3.5),
    ("n8", "laptop battery drains within an hour", "u7", "hardware", 4),
]


def embedded_engine(data_dir: Path) -> Engine:
    """An engine over an embedded store in `data_dir` with the hashing embedder."""
    return Engine(Settings(backend="embedded", data_dir=data_dir), embedder=HashingEmbedder())


def test_restart_keeps_every_narrative_id_and_rebuilds_the_clusterer(tmp_path: Path) -> None:
    """Ids survive a restart; the rebuilt micro-clusters match; a near-duplicate joins the same narrative."""
    engine = embedded_engine(tmp_path / "data")
    for row in CORPUS:
        engine.ingest([ev(*row)])
    before = {row[0]: engine.narrative_of(row[0]) for row in CORPUS}
    micro_before = [list(m) for m in engine.narratives.clusterer.micro_members]
    narratives_before = list(engine.narratives.clusterer.micro_narrative)
    sums_before = engine.narratives.clusterer._sums.copy()
    pairs_before = set(engine.narratives._context_pairs)
    holds_before = set(engine.narratives._holds)
    assert before["n1"] == before["n2"] and before["n3"] == before["n4"] and before["n5"] == before["n6"]
    engine.close()

    engine = embedded_engine(tmp_path / "data")
    assert {row[0]: engine.narrative_of(row[0]) for row in CORPUS} == before
    clusterer = engine.narratives.clusterer
    assert [list(m) for m in clusterer.micro_members] == micro_before
    assert clusterer.micro_narrative == narratives_before
    np.testing.assert_allclose(clusterer._sums, sums_before, atol=1e-6)
    assert set(engine.narratives._context_pairs) == pairs_before
    assert set(engine.narratives._holds) == holds_before
    (outcome,) = engine.ingest([ev("n9", "printer toner empty on floor five", "u8", "printers", 5)])
    assert outcome.narrative_id == before["n1"]
    (outcome,) = engine.ingest([ev("n10", "invoice page frozen", "u5", "payments", 5)])
    assert outcome.narrative_id == before["n5"]
    engine.close()


def test_restart_rebuilds_the_same_thresholds(tmp_path: Path) -> None:
    """The running median after a restart equals the one before it."""
    engine = embedded_engine(tmp_path / "data")
    engine.ingest([ev(f"e{i}", f"word{i} common printer issue", f"u{i}", "printers", i / 10) for i in range(20)])
    observed, median = engine.narratives.clusterer.observed, engine.narratives.clusterer.micro_threshold
    engine.close()
    engine = embedded_engine(tmp_path / "data")
    assert (engine.narratives.clusterer.observed, engine.narratives.clusterer.micro_threshold) == (observed, median)
    engine.close()


def test_crash_between_commits_assigns_events_at_start_up(tmp_path: Path) -> None:
    """Events committed without narratives (a crash before the narrative commit) are assigned on open."""
    engine = embedded_engine(tmp_path / "data")
    engine.ingest([ev(*row) for row in CORPUS[:4]])
    assigned = {row[0]: engine.narrative_of(row[0]) for row in CORPUS[:4]}
    pending = [CORPUS[4], CORPUS[6], CORPUS[7], ("n1b", "printer toner empty on floor one", "u9", "printers", 4.5),
               ("n5b", "supplier invoice payment failed twice", "u5", "payments", 4.6)]
    records = [to_record(ev(*row), T0) for row in pending]
    vectors = engine.embedder.embed([textprep.embedding_text(r.title, r.text) for r in records])
    engine.store.add_events([NewEvent(r, v) for r, v in zip(records, vectors)])
    assert len(engine.store.narratives.unassigned_seqs()) == 5
    engine.store.close()  # the process dies: no narrative commit for these events

    engine = embedded_engine(tmp_path / "data")
    assert engine.store.narratives.unassigned_seqs() == []
    assert {row[0]: engine.narrative_of(row[0]) for row in CORPUS[:4]} == assigned
    assert all(engine.narrative_of(r.id) for r in records)
    assert engine.narrative_of("n1b") == assigned["n1"]
    assert engine.narrative_of("n5") == engine.narrative_of("n5b") not in assigned.values()
    assert len({engine.narrative_of(i) for i in ("n5", "n7", "n8")}) == 3
    held = {seq for members in engine.narratives.clusterer.micro_members for seq in members}
    assert held == set(range(1, 10)) and engine.store.count() == 9
    engine.close()
    engine = embedded_engine(tmp_path / "data")  # and those ids are durable
    assert engine.narrative_of("n1b") == assigned["n1"]
    engine.close()

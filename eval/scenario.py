"""`hypercorr eval context`: a synthetic hypercare stream whose ground truth needs context.

The scenario is a deterministic (seeded) ~3-week stream after a go-live, plus a few reports
~90 days later. Each ground-truth problem hits one system (sometimes two) and its symptoms
evolve in stages whose wording differs a lot ("transaction failed" -> "page not responding" ->
"very slow loading"); several users report it, some of them stage after stage on the same
system within days. Noise (how-to questions, feature requests, one-off issues; each its own
gold label) comes from the same users, mostly on other systems, and late "echo" reports
repeat a problem's wording on an unrelated system months later.

`run_context_eval` streams the same events through two fresh in-memory engines: one as
generated (context-aware) and one with user and systems stripped (text-only), consolidates
both, and scores their narratives against the gold labels (ACC/NMI/ARI and pairwise P/R/F1).
All names, texts and people are invented.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from engine import Engine, EventIn, Settings
from engine.embedder import Embedder
from eval.clustering import clustering_scores
from eval.report import format_table

GO_LIVE = datetime(2026, 2, 2, 8, 0, tzinfo=timezone.utc)  # a Monday
SCENARIO_DAYS = 21
ECHO_DAYS = (86.0, 96.0)  # the late reports, ~3 months after go-live

SYSTEMS = ("payments", "checkout", "hr-portal", "payroll", "inventory", "auth", "crm", "reporting")
USERS = tuple(f"{name}" for name in (
    "amra.velt", "bodo.kunst", "cira.nollen", "dario.fenk", "elin.moss", "faro.quist", "gita.brann",
    "hugo.tarr", "ines.wolde", "jori.palm", "kaia.streb", "lenz.oberg", "mira.sandt", "nils.horv",
    "odil.perk", "pia.ronne", "quin.aster", "rosa.klein", "sven.dreel", "tova.mirr", "ulla.fengs",
    "vito.caran"))
PROBLEM_TITLES = ("Urgent", "Help please", "Problem today", "Still broken", "Issue", "Not working")


@dataclass(frozen=True)
class Problem:
    """A ground-truth problem: its systems and its symptom stages (each a list of phrasings)."""

    key: str
    systems: tuple[str, ...]
    stages: tuple[tuple[str, ...], ...]


# Each stage's phrasings share the symptom; successive stages share (almost) no words.
PROBLEMS: tuple[Problem, ...] = (
    Problem("payments-gateway-timeouts", ("payments",), (
        ("My transaction failed when I tried to pay the supplier invoice",
         "Payment of the vendor bill was rejected with an error",
         "Tried three times to submit the invoice payment, it fails every time",
         "Got 'transaction could not be completed' when paying a supplier"),
        ("The page is not responding at all",
         "Screen froze after I clicked submit, nothing happens",
         "The button just spins forever and the window hangs",
         "Browser says the site is unresponsive"),
        ("Loading is very slow today",
         "Everything takes minutes to load",
         "Really sluggish, each screen needs ages to open",
         "Performance is terrible this morning"),
    )),
    Problem("checkout-session-loss", ("checkout",), (
        ("Items disappear from my basket before I can order",
         "The shopping cart empties itself after a few minutes",
         "Products I added to the cart are gone when I come back"),
        ("The discount code is rejected as invalid",
         "Promo voucher won't apply at the end",
         "Coupon says expired although it is valid until next month"),
        ("A customer was charged twice for one order",
         "We see duplicate card charges for single purchases",
         "Clients complain about double billing on their statements"),
    )),
    Problem("hr-portal-leave-workflow", ("hr-portal",), (
        ("My leave request vanished after I submitted it",
         "The holiday application I sent is no longer listed",
         "Submitted time-off request does not show up anywhere"),
        ("My manager says she never got a notification to approve",
         "Approvers are not receiving any emails about pending requests",
         "Team lead cannot see anything in the approval inbox"),
        ("Vacation balance shows a negative number of days",
         "Remaining annual allowance is wrong, minus four days",
         "My days-off counter went below zero for no reason"),
    )),
    Problem("payroll-timesheet-import", ("payroll",), (
        ("Overtime hours are missing from the timesheet import",
         "The extra shifts I worked last week were not imported",
         "Clocked hours from the terminal never arrived in the system"),
        ("My payslip amount is lower than expected",
         "Net pay this month is much less than it should be",
         "Salary statement shows a smaller figure than my contract"),
        ("The salary transfer did not reach my bank account",
         "Wages not credited yet, the bank sees nothing incoming",
         "Money for this pay period has not been deposited"),
    )),
    Problem("inventory-stock-sync", ("inventory",), (
        ("Stock levels are not updating after goods receipt",
         "Quantities stay the same although the delivery was booked in",
         "Received pallets don't increase the on-hand count"),
        ("The warehouse app lists articles as available that are sold out",
         "Pickers are sent to empty shelves for items shown in stock",
         "System claims we have units left but the bin is empty"),
        ("Barcode scanner says unknown product",
         "Scanning a label gives 'article not found'",
         "Handheld device does not recognise the EAN codes anymore"),
    )),
    Problem("auth-mfa-provider", ("auth",), (
        ("I am not receiving the verification code on my phone",
         "The one-time passcode SMS never arrives",
         "No second-factor text message when I try to sign in"),
        ("I get kicked out and have to log in again every few minutes",
         "Session keeps expiring while I work",
         "Constantly being signed out in the middle of my tasks"),
        ("My account got locked after too many attempts",
         "User is blocked, it says the profile is disabled",
         "Locked out completely, need someone to unlock me"),
    )),
    Problem("crm-merge-job", ("crm",), (
        ("Customer contact details were overwritten with another company's data",
         "The phone number and address of a client changed to someone else's",
         "Account record now shows a different firm's information"),
        ("Duplicate customer records are showing up",
         "Every client appears two or three times in the list",
         "We have many double entries for the same account"),
        ("Search in the customer list returns nothing",
         "Looking up a client by name gives zero results",
         "The find function can't locate any accounts"),
    )),
    Problem("reporting-etl-stale", ("reporting",), (
        ("The monthly sales dashboard still shows yesterday's numbers",
         "Figures on the KPI board have not refreshed since Monday",
         "Charts display outdated data, nothing new since the weekend"),
        ("Export to spreadsheet gives an empty file",
         "Downloaded xlsx has headers but no rows",
         "The CSV I export is blank"),
        ("The scheduled report email never arrived",
         "Weekly summary mail was not delivered this time",
         "I didn't get the automatic Friday report in my inbox"),
    )),
    Problem("payments-reconciliation", ("payments", "reporting"), (
        ("Refunds are not appearing in the reconciliation",
         "Returned money to customers is missing from the matching run",
         "Reimbursed amounts never show up when we reconcile"),
        ("Currency conversion is off by a few cents",
         "Exchange rate rounding differs from the bank's",
         "Foreign amounts converted with small deviations"),
        ("Ledger totals don't match the bank statement",
         "General ledger balance differs from what the bank reports",
         "Month-end closing fails because the books are out of balance"),
    )),
    Problem("checkout-delivery-dates", ("checkout", "inventory"), (
        ("Order confirmation shows the wrong delivery date",
         "Customers are promised shipping dates weeks in the future",
         "Expected arrival date on the receipt is nonsense"),
        ("Product page says out of stock but the warehouse has plenty",
         "Items show unavailable online while shelves are full",
         "Web shop marks articles as sold out that we physically have"),
        ("Back-order emails are sent for goods that already shipped",
         "Clients receive 'delayed' messages after their parcel arrived",
         "Automatic delay notices go out for completed deliveries"),
    )),
    Problem("sso-hr-portal", ("auth", "hr-portal"), (
        ("Opening the HR portal sends me in a redirect loop",
         "Browser keeps bouncing between login and the employee site",
         "Too many redirects error when I try to reach my personnel page"),
        ("After signing in I only see a blank white page",
         "Empty screen once the login completes, no menu",
         "The site loads nothing but white after authentication"),
        ("My profile shows someone else's name and photo",
         "Personal data of a colleague is displayed on my page",
         "I can see another employee's details instead of mine"),
    )),
    Problem("payroll-tax-codes", ("payroll",), (
        ("Income tax deduction is doubled on this run",
         "Far too much withholding taken from my wages",
         "The tax line on my pay slip is twice the usual"),
        ("Pension contribution is missing completely",
         "No retirement fund payment was taken this month",
         "Employer pension share disappeared from the breakdown"),
        ("Year-to-date totals reset to zero",
         "Cumulative earnings since January show nothing",
         "Annual summary restarted as if I was newly hired"),
    )),
    Problem("crm-email-sync", ("crm",), (
        ("Emails sent from the CRM land in customers' spam folders",
         "Our outgoing messages to clients are flagged as junk",
         "Recipients find our mails in their spam"),
        ("Attachments on customer emails can't be opened",
         "PDFs attached to client messages are corrupted",
         "Files we send to accounts arrive damaged"),
        ("The activity timeline of accounts is empty",
         "History of calls and meetings disappeared from client pages",
         "No past interactions are logged on any contact"),
    )),
    Problem("auth-password-reset", ("auth",), (
        ("The password reset link says it has expired immediately",
         "Reset email link is invalid as soon as I click it",
         "Cannot change my password, the link is already outdated"),
        ("New password is not accepted though it meets the rules",
         "Complexity check rejects every passphrase I try",
         "It keeps saying my new password is too weak"),
        ("Old password still works after I changed it",
         "Both my previous and new credentials let me in",
         "The former password was never replaced"),
    )),
)

HOW_TO = {
    "payments": ("How do I add a new supplier bank account?", "Where can I see the status of a payment run?",
                 "How can I cancel a scheduled transfer?"),
    "checkout": ("How do I set up free shipping for orders above a threshold?",
                 "Where do I configure accepted card types?", "How can staff create an order on behalf of a customer?"),
    "hr-portal": ("How do I update my home address?", "Where do I find the company handbook?",
                  "How can I add my child as a dependant?"),
    "payroll": ("When is the cut-off date for expense claims?", "How is the night shift allowance calculated?",
                "Where do I download last year's annual tax statement?"),
    "inventory": ("How do I create a new storage location?", "Can someone explain how cycle counts work?",
                  "How do I print shelf labels for a whole aisle?"),
    "auth": ("How do I register a second device for sign-in?", "Who approves access to the finance group?",
             "How do I set up my hardware security key?"),
    "crm": ("How do I assign a lead to a colleague?", "How can I import contacts from a trade fair list?",
            "Where do I set my default sales region?"),
    "reporting": ("How do I share a dashboard with my team?", "Can I add a filter for cost centre to a chart?",
                  "How do I schedule a report for the first day of the month?"),
}
FEATURE_REQUESTS = {
    "payments": ("It would be great to approve several payments with one click",
                 "Please add a column for the purchase order number"),
    "checkout": ("Could we offer gift wrapping as an option?", "Please allow customers to save several addresses"),
    "hr-portal": ("A dark mode for the portal would be nice", "Please show public holidays in the team calendar"),
    "payroll": ("Could payslips be sent as encrypted PDF by mail?", "Please add a chart of my earnings over the year"),
    "inventory": ("We would like to see expiry dates on the picking list", "Please add a mobile view for stock takes"),
    "auth": ("Can we remember the device for thirty days?", "Please support sign-in with a passkey"),
    "crm": ("Add a birthday field to contacts please", "Would love a kanban board for the sales pipeline"),
    "reporting": ("Please add a year-over-year comparison to the revenue chart",
                  "Could exports include the applied filters on the first sheet?"),
}
ONE_OFFS = {
    "payments": ("The IBAN of supplier Borvik Metals is misspelled in the master data",),
    "checkout": ("A product image for the blue thermos shows a red one",),
    "hr-portal": ("My job title is listed incorrectly as trainee",),
    "payroll": ("My bank details changed, the new account must be used from next month",),
    "inventory": ("Pallet 4471 was booked into the wrong warehouse by mistake",),
    "auth": ("Please remove the access of an intern who left last Friday",),
    "crm": ("Typo in the company name of Tellmark Logistics",),
    "reporting": ("The logo on the PDF report header is blurry",),
}


@dataclass(frozen=True)
class ScenarioEvent:
    """One report of the scenario with its gold label (a problem key, or its own id for noise)."""

    id: str
    text: str
    user_id: str
    systems: tuple[str, ...]
    occurred_at: datetime
    gold: str
    title: str = ""
    kind: str = "feedback"
    stage: int | None = None  # symptom stage of a problem report; None for noise and echoes
    role: str = "problem"  # problem | noise | echo

    def to_event_in(self, context: bool = True) -> EventIn:
        """The event as a client would send it; without `context`, user and systems are dropped."""
        return EventIn(id=self.id, kind=self.kind, title=self.title, text=self.text,
                       user_id=self.user_id if context else None, systems=list(self.systems) if context else [],
                       channel="widget", occurred_at=self.occurred_at)


@dataclass
class _Builder:
    rng: random.Random
    events: list[dict] = field(default_factory=list)

    def at(self, day: float) -> datetime:
        """A business-hours time on (about) the given day after go-live; weekends shift to Monday."""
        date = GO_LIVE + timedelta(days=int(day))
        while date.weekday() >= 5:
            date += timedelta(days=1)
        return date.replace(hour=8) + timedelta(minutes=self.rng.randint(0, 9 * 60))

    def add(self, **kwargs: object) -> None:
        self.events.append(kwargs)


def generate(seed: int = 0, n_problems: int = 12, reporters: tuple[int, int] = (6, 8),
             followers: tuple[int, int] = (2, 3), noise: int = 48, echoes: int = 10,
             shared_reporters: bool = True) -> list[ScenarioEvent]:
    """The scenario stream, in time order, reproducible from `seed`.

    Per problem: `reporters` users (a range); `followers` of them report every stage in turn
    on the same system, 1-3 days apart; the others report one or two stages. Then `noise`
    unrelated reports (same users, random systems) and `echoes` late reports that repeat a
    problem's wording on a system that problem never touched. With `shared_reporters` False, a
    user reports at most one problem per system (no user sees two problems on one system).
    """
    if not 1 <= n_problems <= len(PROBLEMS):
        raise ValueError(f"n_problems must be 1..{len(PROBLEMS)}")
    rng = random.Random(seed)
    build = _Builder(rng)
    problems = rng.sample(PROBLEMS, n_problems)
    taken: set[tuple[str, str]] = set()
    for problem in problems:
        start = rng.uniform(0, SCENARIO_DAYS - 9)
        people = rng.sample(USERS, rng.randint(*reporters))
        n_follow = rng.randint(*followers)
        for position, user in enumerate(people):
            system = rng.choice(problem.systems)  # a user sees the problem on one of its systems
            if not shared_reporters:
                if (user, system) in taken:
                    continue
                taken.add((user, system))
            if position < n_follow:  # a follower: every stage, one after the other
                stages = list(range(len(problem.stages)))
                day = start + rng.uniform(0, 1.5)
            else:
                first = rng.randrange(len(problem.stages))
                stages = list(range(first, min(len(problem.stages), first + rng.randint(1, 2))))
                day = start + 2.5 * first + rng.uniform(0, 2)
            for stage in stages:
                for _ in range(rng.choice((1, 1, 1, 2))):  # sometimes the same symptom twice
                    build.add(text=rng.choice(problem.stages[stage]), user_id=user, systems=(system,),
                              day=day, gold=problem.key, stage=stage, role="problem",
                              title=rng.choice(PROBLEM_TITLES) if rng.random() < 0.25 else "")
                    day += rng.uniform(0.2, 1.0)
                day += rng.uniform(0.8, 2.5)
    pools = [(s, "how-to", t) for s, texts in HOW_TO.items() for t in texts]
    pools += [(s, "feature", t) for s, texts in FEATURE_REQUESTS.items() for t in texts]
    pools += [(s, "one-off", t) for s, texts in ONE_OFFS.items() for t in texts]
    for system, sort, text in rng.sample(pools, min(noise, len(pools))):
        build.add(text=text, user_id=rng.choice(USERS), systems=(system,), day=rng.uniform(0, SCENARIO_DAYS),
                  gold=None, stage=None, role="noise", title="Question" if sort == "how-to" and rng.random() < 0.3 else "")
    for _ in range(echoes):
        problem = rng.choice(problems)
        system = rng.choice([s for s in SYSTEMS if s not in problem.systems])
        build.add(text=rng.choice(rng.choice(problem.stages)), user_id=rng.choice(USERS), systems=(system,),
                  day=rng.uniform(*ECHO_DAYS), gold=None, stage=None, role="echo", title="")
    timed = [(build.at(e["day"]), i, e) for i, e in enumerate(build.events)]
    timed.sort(key=lambda t: (t[0], t[1]))
    events = []
    for number, (when, _, e) in enumerate(timed):
        event_id = f"sc-{seed}-{number:04d}"
        events.append(ScenarioEvent(id=event_id, text=e["text"], user_id=e["user_id"], systems=e["systems"],
                                    occurred_at=when, gold=e["gold"] or f"{e['role']}:{event_id}",
                                    title=e["title"], stage=e["stage"], role=e["role"]))
    return events


# ---- scoring ------------------------------------------------------------------------
def pairwise_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Precision, recall and F1 (percent) of "same narrative" over all pairs, against "same gold label"."""
    def pairs(counts: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())
    together = pairs(Counter(zip(gold, predicted)))
    predicted_pairs, gold_pairs = pairs(Counter(predicted)), pairs(Counter(gold))
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pair_P": 100.0 * precision, "pair_R": 100.0 * recall, "pair_F1": 100.0 * f1}


def stream_scenario(engine: Engine, events: Sequence[ScenarioEvent], context: bool, batch: int = 25) -> list[str]:
    """Ingest the events in order (with or without context), consolidate, and return each one's narrative."""
    for start in range(0, len(events), batch):
        engine.ingest([e.to_event_in(context) for e in events[start:start + batch]])
    engine.narratives.consolidate()
    return [engine.narrative_of(e.id) or "" for e in events]


def score(events: Sequence[ScenarioEvent], predicted: Sequence[str]) -> dict[str, float]:
    """ACC/NMI/ARI/narratives and pairwise P/R/F1 of one run."""
    gold = [e.gold for e in events]
    return {k: float(v) if k != "narratives" else int(v)
            for k, v in {**clustering_scores(gold, predicted), **pairwise_scores(gold, predicted)}.items()}


METRICS = ("ACC", "NMI", "ARI", "pair_P", "pair_R", "pair_F1", "narratives")


def run_context_eval(seed: int = 0, n_problems: int = 12, embedder: Embedder | None = None,
                     **scenario: object) -> dict[str, object]:
    """Stream the scenario through a context-aware and a text-only in-memory engine and score both."""
    started = time.perf_counter()
    events = generate(seed, n_problems, **scenario)  # type: ignore[arg-type]
    context_engine = Engine(Settings(backend="memory"), embedder=embedder)
    text_engine = Engine(Settings(backend="memory"), embedder=context_engine.embedder)
    runs = {}
    for name, engine, with_context in (("context", context_engine, True), ("text_only", text_engine, False)):
        runs[name] = score(events, stream_scenario(engine, events, with_context))
        engine.close()
    gold = Counter(e.gold for e in events)
    return {**runs, "gain": {m: runs["context"][m] - runs["text_only"][m] for m in METRICS},
            "scenario": {"seed": seed, "events": len(events), "problems": n_problems,
                         "gold_labels": len(gold), "problem_events": sum(e.role == "problem" for e in events),
                         "noise_events": sum(e.role == "noise" for e in events),
                         "echo_events": sum(e.role == "echo" for e in events)},
            "seconds": round(time.perf_counter() - started, 2)}


def format_context_eval(result: dict[str, object]) -> str:
    """The result as a plain-text table (context, text-only, gain)."""
    def cells(figures: dict[str, float], signed: bool = False) -> list[str]:
        return [f"{figures[m]:+.1f}" if signed else f"{figures[m]:.1f}" for m in METRICS[:-1]] + \
               [f"{figures['narratives']:+d}" if signed else str(figures["narratives"])]
    rows = [["context-aware", *cells(result["context"])],  # type: ignore[arg-type]
            ["text-only", *cells(result["text_only"])],  # type: ignore[arg-type]
            ["gain", *cells(result["gain"], signed=True)]]  # type: ignore[arg-type]
    s = result["scenario"]  # type: ignore[assignment]
    head = (f"Context-aware vs text-only narratives on the hypercare scenario (seed {s['seed']}: "
            f"{s['events']} events, {s['problems']} problems, {s['gold_labels']} gold labels; "
            f"{result['seconds']} s)")
    return head + "\n" + format_table(["run", *METRICS], rows)


def print_context_eval(result: dict[str, object], as_json: bool = False) -> None:
    """Print the table; with `as_json`, end with one JSON line."""
    print(format_context_eval(result))
    if as_json:
        print(json.dumps(result))


if __name__ == "__main__":
    print_context_eval(run_context_eval())

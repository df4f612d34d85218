"""The demo data behind ``manage.py seed_demo``: two teams and four months of history.

Like ``api.py`` and ``views.py`` this is the outer layer: it writes only through
the services of every app (``accounts.services``, ``promises.services``,
``trust.services``), so every row is one the product itself would have written,
with its events, its alerts, the answer times of inbound touches, the repairs of
broken promises, and a trust health recomputed every week of the story (so each
account has a history) and once more at the end.

The story is planned first as plain data (``plan_story``: seeded random numbers,
no database, the same plan for the same seed and time), then played in time
order (``seed``). The services stamp ``timezone.now()`` on what they write: when
an event happened, when a promise broke, whether the break came before the due
time (a disclosed one) or not. So that a break in March is recorded in March,
each step runs while ``django.utils.timezone.now`` answers the step's time. The
only direct writes are the creation times that the models take from their field
defaults (teams, users, accounts, contacts, interactions), moved back to when the
story says they began.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account, Contact, Team, User
from interactions.models import Interaction
from promises import services as promise_services
from promises.models import Alert, Promise
from trust import services as trust_services

DEFAULT_SEED = 2024
PASSWORD = "promise-kept"
HISTORY_DAYS = 120
# The sweep runs every minute; in the story it runs one minute after each due time.
SWEEP_DELAY = timedelta(minutes=1)


class DemoPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 at few iterations: hashing nine passwords at full strength takes ~10 s.

    Django reads the iteration count from the stored hash, so these passwords work
    with the project's own hashers, which re-hash them at full strength at the
    first sign-in. The demo passwords are printed for all to read anyway.
    """

    iterations = 1_000


# --- the cast ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    role: str  # "admin", "lead" or "rep"
    team: str | None = None


ADMIN = Person("admin", "", "", "admin")
PEOPLE = (
    ADMIN,
    Person("maria", "Maria", "Lopez", "lead", "Enterprise"),
    Person("tom", "Tom", "Becker", "rep", "Enterprise"),
    Person("priya", "Priya", "Natarajan", "rep", "Enterprise"),
    Person("dan", "Dan", "Whitfield", "rep", "Enterprise"),
    Person("james", "James", "Okafor", "lead", "Mid-market"),
    Person("lena", "Lena", "Fischer", "rep", "Mid-market"),
    Person("omar", "Omar", "Haddad", "rep", "Mid-market"),
)
TEAMS = ("Enterprise", "Mid-market")


@dataclass(frozen=True)
class Profile:
    """How a relationship behaves: how often we touch it, its mood, our promise record."""

    rhythm_days: float
    # Weights of sentiment -2, -1, 0, +1, +2.
    mood: tuple[int, int, int, int, int]
    # Weights of what becomes of a promise.
    outcomes: dict[str, float]
    renegotiate: float
    # Share of the customer's calls and e-mails we answer within a day or so.
    answers: float
    starts_days_ago: int = HISTORY_DAYS
    # No touch in the last this many days: a relationship going cold.
    quiet_days: int = 0


PROFILES = {
    "steady": Profile(
        rhythm_days=7,
        mood=(0, 1, 4, 8, 4),
        outcomes={"on_time": 82, "late": 8, "disclosed": 3, "silent": 2, "released": 5},
        renegotiate=0.15,
        answers=0.9,
    ),
    "mixed": Profile(
        rhythm_days=10,
        mood=(1, 3, 6, 5, 2),
        outcomes={"on_time": 60, "late": 14, "disclosed": 8, "silent": 10, "released": 8},
        renegotiate=0.2,
        answers=0.65,
    ),
    "strained": Profile(
        rhythm_days=9,
        mood=(5, 7, 4, 2, 1),
        outcomes={"on_time": 25, "late": 15, "disclosed": 12, "silent": 43, "released": 5},
        renegotiate=0.1,
        answers=0.3,
    ),
    "cooling": Profile(
        rhythm_days=8,
        mood=(0, 2, 6, 5, 2),
        outcomes={"on_time": 70, "late": 10, "disclosed": 5, "silent": 10, "released": 5},
        renegotiate=0.1,
        answers=0.75,
        quiet_days=50,
    ),
    "new": Profile(
        rhythm_days=6,
        mood=(0, 1, 4, 6, 3),
        outcomes={"on_time": 80, "late": 8, "disclosed": 4, "silent": 3, "released": 5},
        renegotiate=0.1,
        answers=0.9,
        starts_days_ago=28,
    ),
}

# name, domain ("" for a person buying for themselves), profile, owner ("" for a rep)
ACCOUNTS = {
    "Enterprise": (
        ("Brightwater Logistics", "brightwater-logistics.example", "steady", "maria"),
        ("Halcyon Health Partners", "halcyonhealth.example", "steady", ""),
        ("Kestrel Aerospace", "kestrel-aero.example", "strained", ""),
        ("Northgate Bank", "northgatebank.example", "cooling", ""),
        ("Meridian Foods Group", "meridianfoods.example", "steady", ""),
        ("Orbital Energy", "orbitalenergy.example", "mixed", ""),
        ("Pinecrest University", "pinecrest.example", "steady", ""),
        ("Redwood Pharma", "redwoodpharma.example", "strained", ""),
        ("Silverline Telecom", "silverline.example", "mixed", ""),
        ("Tidewater Ports Authority", "tidewaterports.example", "new", ""),
        ("Vantage Insurance", "vantage-insurance.example", "cooling", ""),
        ("Granite Construction", "graniteco.example", "steady", ""),
    ),
    "Mid-market": (
        ("Acorn Bakery Supplies", "acornbakery.example", "steady", ""),
        ("Bluebird Dental Clinics", "bluebirddental.example", "steady", "james"),
        ("Copperleaf Interiors", "copperleaf.example", "mixed", ""),
        ("Driftwood Outdoor Gear", "driftwoodgear.example", "strained", ""),
        ("Elm Street Veterinary", "elmstreetvet.example", "steady", ""),
        ("Foxglove Florists", "foxglove.example", "cooling", ""),
        ("Juniper Software", "junipersoftware.example", "mixed", ""),
        ("Lumen Print Studio", "lumenprint.example", "new", ""),
        ("Maple & Co. Accountants", "mapleandco.example", "steady", ""),
        ("Nimbus Coworking", "nimbuscowork.example", "strained", ""),
        ("Quarry Hill Brewing", "quarryhill.example", "steady", ""),
        ("Dr. Ruth Aldana", "", "mixed", ""),
    ),
}

# fmt: off
FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Diego", "Elif", "Farah", "Gavin", "Hana", "Ivan", "Jonas",
    "Keiko", "Liam", "Mara", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Stefan", "Tara",
    "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zoe", "Anke", "Bruno", "Chloe", "Dmitri",
)
LAST_NAMES = (
    "Andersen", "Baptiste", "Castillo", "Dubois", "Eriksen", "Ferreira", "Goldberg", "Hughes",
    "Ibrahim", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Oduya", "Petrov",
    "Quinn", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Walsh", "Xu", "Yilmaz",
    "Zielinski",
)
# fmt: on
TITLES = {
    "Enterprise": (
        "Head of Procurement",
        "VP Operations",
        "IT Director",
        "Chief Financial Officer",
        "Programme Manager",
        "Head of Customer Service",
    ),
    "Mid-market": (
        "Owner",
        "Office Manager",
        "Managing Director",
        "Operations Lead",
        "Finance Manager",
    ),
}
TOPICS = (
    "the renewal",
    "extra seats",
    "the ERP integration",
    "the Q3 rollout",
    "the pilot results",
    "the new site opening",
    "single sign-on",
    "the reporting module",
    "the data migration",
    "the price increase",
    "support response times",
    "onboarding their new team",
)
SUMMARIES = {
    ("call", "outbound"): (
        "Called {contact} about {topic}.",
        "Check-in call with {contact}; went through {topic}.",
        "Follow-up call with {contact} on {topic}.",
    ),
    ("call", "inbound"): (
        "{contact} called about {topic}.",
        "{contact} rang with questions on {topic}.",
    ),
    ("email", "outbound"): (
        "E-mailed {contact} an update on {topic}.",
        "Sent {contact} the material on {topic}.",
    ),
    ("email", "inbound"): (
        "{contact} wrote about {topic}.",
        "E-mail from {contact} asking about {topic}.",
    ),
    ("meeting", "outbound"): (
        "Meeting with {contact} to review {topic}.",
        "On-site visit: {contact} walked us through {topic}.",
        "Quarterly review with {contact}; main subject {topic}.",
    ),
    ("meeting", "inbound"): ("{contact} asked for a meeting on {topic}.",),
    ("message", "outbound"): ("Messaged {contact} about {topic}.",),
    ("message", "inbound"): ("{contact} messaged about {topic}.",),
    ("reply", "email"): (
        "Replied to {contact} on {topic}.",
        "Answered {contact}'s questions on {topic} by e-mail.",
    ),
    ("reply", "call"): ("Called {contact} back about {topic}.",),
    ("note", "outbound"): (
        "Note: {topic} is their priority this quarter.",
        "Note: budget for {topic} approved on their side.",
    ),
}
MOOD: dict[int | None, str] = {
    -2: " They are unhappy and mentioned looking at other suppliers.",
    -1: " Some frustration about delays.",
    0: "",
    1: " Good conversation.",
    2: " Very pleased with how things are going.",
}
PROMISES = (
    "Send the revised quote for {topic}",
    "Share the rollout plan for {topic}",
    "Get product's answer on {topic}",
    "Set up a call with our solutions engineer about {topic}",
    "Send the signed order form",
    "Correct the invoice and send it again",
    "Confirm the delivery dates",
    "Return the completed security questionnaire",
    "Book the training session for their new staff",
    "Send the case study they asked for",
    "Escalate their support ticket and report back",
    "Send the meeting notes and next steps on {topic}",
    "Send our redlines on the contract",
    "Share usage figures for the last quarter",
)
NOTES = {
    "disclosed": (
        "Told {contact} we cannot deliver this after all; engineering capacity moved.",
        "Product will not support it this year; explained to {contact}, offered a workaround.",
        "Supplier delay; let {contact} know it will not happen as promised.",
    ),
    "released": (
        "{contact} no longer needs it; their project was paused.",
        "{contact} solved it on their side and released us.",
        "Superseded by the new order; {contact} agreed to drop it.",
    ),
    "renegotiated": (
        "{contact} asked to move it; waiting on their legal team.",
        "Agreed a later date with {contact}; their team is on holiday.",
        "{contact} agreed to more time so we can include the latest figures.",
    ),
    "acknowledged": (
        "Looking into it with {rep}.",
        "Asked {rep} what happened; will call the customer.",
    ),
    "resolved": (
        "Called {contact}, apologised and agreed a new date.",
        "Delivered the following week; {contact} is fine with it.",
        "Went through it with {rep}: dates are now agreed with the customer first.",
        "{contact} confirmed it no longer matters.",
    ),
}


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactPlan:
    first_name: str
    last_name: str
    title: str
    email: str
    phone: str


@dataclass(frozen=True)
class AccountPlan:
    key: str
    name: str
    domain: str
    team: str
    owner: str
    profile: str
    since: datetime
    topics: tuple[str, ...]
    contacts: tuple[ContactPlan, ...]


@dataclass(frozen=True)
class PromisePlan:
    key: int
    description: str
    due_at: datetime
    contact: int | None


@dataclass(frozen=True)
class Step:
    at: datetime


@dataclass(frozen=True)
class Log(Step):
    account: str
    by: str
    kind: str
    direction: str
    occurred_at: datetime
    summary: str
    sentiment: int | None
    contacts: tuple[int, ...]
    external_id: str | None
    promises: tuple[PromisePlan, ...]


@dataclass(frozen=True)
class Transition(Step):
    """keep, break, release or renegotiate a promise; acknowledge or resolve its alert."""

    action: str
    promise: int
    by: str
    note: str = ""
    due_at: datetime | None = None


@dataclass(frozen=True)
class Sweep(Step):
    """The overdue sweep runs (beat runs it every minute)."""


@dataclass(frozen=True)
class Recompute(Step):
    """The trust jobs compute the health, as of this moment, of the accounts that exist."""

    accounts: tuple[str, ...]


@dataclass
class Story:
    now: datetime
    accounts: list[AccountPlan] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def plan_story(*, seed: int = DEFAULT_SEED, now: datetime) -> Story:
    """The whole demo as data: the same seed and ``now`` give the same story."""
    planner = _Planner(random.Random(seed), now)
    for team in TEAMS:
        planner.plan_team(team)
    planner.plan_health_checks()
    # Sorted by time; sorting is stable, so steps at the same time keep their order.
    planner.story.steps.sort(key=lambda step: step.at)
    return planner.story


class _Planner:
    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.story = Story(now=now)
        self.next_promise = 0
        # Each step must have happened by now; the after-the-fact log is the last.
        self.horizon = now - timedelta(minutes=5)

    # -- accounts ------------------------------------------------------------------

    def plan_team(self, team: str) -> None:
        reps = [p.username for p in PEOPLE if p.team == team and p.role == "rep"]
        lead = next(p.username for p in PEOPLE if p.team == team and p.role == "lead")
        accounts = []
        for index, (name, domain, profile, owner) in enumerate(ACCOUNTS[team]):
            account = self.plan_account(
                team, name, domain, profile, owner or reps[index % len(reps)]
            )
            accounts.append(account)
            self.story.accounts.append(account)
            self.plan_history(account, lead)
        self.plan_present(accounts, lead)

    def plan_account(self, team, name, domain, profile, owner) -> AccountPlan:
        rng = self.rng
        since = self.now - timedelta(days=PROFILES[profile].starts_days_ago + rng.randint(1, 20))
        mail_domain = domain or "mail.example"
        if domain:
            people = [
                (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
                for _ in range(rng.randint(2, 3) if team == "Enterprise" else rng.randint(1, 2))
            ]
            titles = rng.sample(TITLES[team], len(people))
        else:
            # A person buying for herself: the contact is the customer.
            first, last = name.removeprefix("Dr. ").split(" ", 1)
            people, titles = [(first, last)], ["Practice owner"]
        contacts = tuple(
            ContactPlan(
                first_name=first,
                last_name=last,
                title=title,
                email=f"{first}.{last}@{mail_domain}".lower(),
                phone=f"+1 {rng.choice((212, 312, 415, 617, 206))} 555 01{rng.randint(0, 99):02d}",
            )
            for (first, last), title in zip(people, titles, strict=True)
        )
        return AccountPlan(
            key=name,
            name=name,
            domain=domain,
            team=team,
            owner=owner,
            profile=profile,
            since=since,
            topics=tuple(rng.sample(TOPICS, 3)),
            contacts=contacts,
        )

    # -- history -------------------------------------------------------------------

    def plan_history(self, account: AccountPlan, lead: str) -> None:
        """Touches at the relationship's own rhythm, and what became of each promise."""
        rng, profile = self.rng, PROFILES[account.profile]
        moment = self.now - timedelta(days=profile.starts_days_ago - rng.uniform(0, 3))
        last = self.now - timedelta(days=profile.quiet_days)
        while moment < last:
            occurred_at = self.working_hours(moment)
            if occurred_at < self.horizon:
                by = lead if rng.random() < 0.15 else account.owner
                self.plan_touch(account, by, occurred_at, lead)
            moment += timedelta(days=profile.rhythm_days * rng.uniform(0.4, 1.6))

    def working_hours(self, moment: datetime) -> datetime:
        """A time on a working day (a weekend moves to the Friday before)."""
        day = moment.date()
        day -= timedelta(days=max(0, day.weekday() - 4))
        hour = self.rng.randint(8, 17)
        return datetime.combine(day, time(hour, self.rng.randrange(0, 60, 5)), tzinfo=moment.tzinfo)

    def plan_touch(self, account: AccountPlan, by: str, occurred_at: datetime, lead: str) -> None:
        rng, profile = self.rng, PROFILES[account.profile]
        kind = rng.choices(("call", "email", "meeting", "message", "note"), (35, 33, 15, 12, 5))[0]
        direction = "outbound"
        if kind != "note" and rng.random() < 0.35:
            direction = "inbound"
        sentiment = None if kind == "note" else rng.choices((-2, -1, 0, 1, 2), profile.mood)[0]
        contact = rng.randrange(len(account.contacts))
        contacts: tuple[int, ...] = () if kind == "note" else (contact,)
        if kind == "meeting" and len(account.contacts) > 1:
            contacts = tuple(range(len(account.contacts)))
        topic = rng.choice(account.topics)
        summary = rng.choice(SUMMARIES[(kind, direction)]).format(
            contact=account.contacts[contact].first_name, topic=topic
        )
        promises: tuple[PromisePlan, ...] = ()
        if kind in ("call", "email", "meeting") and rng.random() < (
            0.5 if kind == "meeting" else 0.4
        ):
            count = 2 if kind == "meeting" and rng.random() < 0.3 else 1
            promises = tuple(
                self.plan_promise(topic, contact, self.due_after(occurred_at)) for _ in range(count)
            )
        self.add_log(
            account, by, kind, direction, occurred_at, summary, sentiment, contacts, promises
        )
        if direction == "inbound" and rng.random() < profile.answers:
            self.plan_reply(account, occurred_at, contact, topic)
        for promise in promises:
            self.plan_outcome(account, promise, by, lead, made_at=occurred_at)

    def plan_reply(self, account: AccountPlan, asked_at: datetime, contact: int, topic: str):
        """We get back to a customer who reached out, within a day or so."""
        rng, profile = self.rng, PROFILES[account.profile]
        occurred_at = asked_at + timedelta(hours=rng.uniform(1, 30))
        if occurred_at >= self.horizon:
            return
        kind = rng.choice(("email", "call"))
        summary = rng.choice(SUMMARIES[("reply", kind)]).format(
            contact=account.contacts[contact].first_name, topic=topic
        )
        sentiment = rng.choices((-2, -1, 0, 1, 2), profile.mood)[0]
        self.add_log(
            account, account.owner, kind, "outbound", occurred_at, summary, sentiment, (contact,)
        )

    def add_log(
        self,
        account: AccountPlan,
        by: str,
        kind: str,
        direction: str,
        occurred_at: datetime,
        summary: str,
        sentiment: int | None,
        contacts: tuple[int, ...],
        promises: tuple[PromisePlan, ...] = (),
        *,
        logged_at: datetime | None = None,
    ) -> None:
        """Log a touch, by default a little after it happened; e-mails come with their id."""
        rng = self.rng
        if logged_at is None:
            logged_at = min(occurred_at + timedelta(minutes=rng.randint(5, 90)), self.horizon)
        self.story.steps.append(
            Log(
                at=logged_at,
                account=account.key,
                by=by,
                kind=kind,
                direction=direction,
                occurred_at=occurred_at,
                summary=summary + MOOD.get(sentiment, ""),
                sentiment=sentiment,
                contacts=contacts,
                external_id=f"mail-{rng.getrandbits(48):012x}" if kind == "email" else None,
                promises=promises,
            )
        )

    def plan_promise(self, topic: str, contact: int, due_at: datetime) -> PromisePlan:
        self.next_promise += 1
        return PromisePlan(
            key=self.next_promise,
            description=self.rng.choice(PROMISES).format(topic=topic),
            due_at=due_at,
            contact=contact,
        )

    def due_after(self, occurred_at: datetime) -> datetime:
        """A due time as people promise them: 5 pm, a few days after the conversation."""
        day = occurred_at.date() + timedelta(days=self.rng.choice((1, 2, 3, 5, 7, 10, 14)))
        return datetime.combine(day, time(17, 0), tzinfo=occurred_at.tzinfo)

    def plan_outcome(self, account, promise: PromisePlan, by: str, lead: str, *, made_at) -> None:
        """What became of one promise, as steps, and the lead's review of its alert."""
        rng, profile = self.rng, PROFILES[account.profile]
        outcome = rng.choices(list(profile.outcomes), list(profile.outcomes.values()))[0]
        contact = account.contacts[promise.contact].first_name
        start, due = made_at, promise.due_at
        if rng.random() < profile.renegotiate:
            at = self.between(start, due, 0.3, 0.7)
            new_due = due + timedelta(days=rng.choice((2, 3, 5, 7)))
            if self.add(
                Transition(
                    at, "renegotiate", promise.key, by, self.note("renegotiated", contact), new_due
                )
            ):
                start, due = at, new_due
        self.add(Sweep(due + SWEEP_DELAY))
        broken_at = None
        if outcome == "on_time":
            self.add(Transition(self.between(start, due, 0.3, 0.95), "keep", promise.key, by))
        elif outcome == "late":
            self.add(
                Transition(due + timedelta(hours=rng.uniform(6, 144)), "keep", promise.key, by)
            )
            broken_at = due + SWEEP_DELAY
        elif outcome == "silent":
            broken_at = due + SWEEP_DELAY
        elif outcome == "disclosed":
            at = self.between(start, due, 0.5, 0.95)
            if self.add(Transition(at, "break", promise.key, by, self.note("disclosed", contact))):
                broken_at = at
        elif outcome == "released":
            at = self.between(start, due, 0.3, 0.9)
            self.add(Transition(at, "release", promise.key, by, self.note("released", contact)))
        if broken_at is not None and broken_at <= self.horizon:
            self.plan_review(promise, broken_at, lead, by, contact)

    def plan_review(
        self, promise: PromisePlan, broken_at, lead: str, rep: str, contact: str
    ) -> None:
        """Most alerts get acknowledged within a day, and resolved within a few more."""
        rng = self.rng
        acknowledged_at = broken_at + timedelta(hours=rng.uniform(2, 30))
        resolved_at = acknowledged_at + timedelta(hours=rng.uniform(12, 96))
        roll = rng.random()
        if roll < 0.7 and resolved_at <= self.horizon:
            if roll < 0.5:
                note = self.note("acknowledged", contact, rep=rep)
                self.add(Transition(acknowledged_at, "acknowledge", promise.key, lead, note))
            note = self.note("resolved", contact, rep=rep)
            self.add(Transition(resolved_at, "resolve", promise.key, lead, note))
        elif roll < 0.85:
            note = self.note("acknowledged", contact, rep=rep)
            self.add(Transition(acknowledged_at, "acknowledge", promise.key, lead, note))

    # -- the present -----------------------------------------------------------------

    def plan_present(self, accounts: list[AccountPlan], lead: str) -> None:
        """Today's picture, whatever the dice said: due soon, renegotiated, overdue."""
        rng, now = self.rng, self.now
        warm = [a for a in accounts if a.profile in ("steady", "mixed", "new")]
        for account in rng.sample(warm, 2):
            occurred_at = now - timedelta(days=rng.uniform(1, 3))
            due_at = now + timedelta(hours=rng.uniform(3, 20))
            self.plan_present_touch(
                account, occurred_at, occurred_at + timedelta(minutes=20), due_at
            )
        account = rng.choice(warm)
        promise = self.plan_present_touch(
            account, now - timedelta(days=6), now - timedelta(days=6), now + timedelta(days=1)
        )
        assert promise.contact is not None  # a present touch names the contact it was with
        contact = account.contacts[promise.contact].first_name
        note = self.note("renegotiated", contact)
        self.add(
            Transition(
                now - timedelta(days=1),
                "renegotiate",
                promise.key,
                account.owner,
                note,
                now + timedelta(days=6),
            )
        )
        # Logged after the fact, due already past, after the last sweep: still open, overdue.
        account = rng.choice(warm)
        self.plan_present_touch(account, now - timedelta(hours=20), now, now - timedelta(hours=2))

    def plan_present_touch(self, account, occurred_at, logged_at, due_at) -> PromisePlan:
        rng = self.rng
        topic = rng.choice(account.topics)
        contact = rng.randrange(len(account.contacts))
        promise = self.plan_promise(topic, contact, due_at)
        name = account.contacts[contact].first_name
        summary = f"Called {name} about {topic}."
        self.add_log(
            account,
            account.owner,
            "call",
            "outbound",
            occurred_at,
            summary,
            1,
            (contact,),
            (promise,),
            logged_at=logged_at,
        )
        return promise

    # -- health --------------------------------------------------------------------------

    def plan_health_checks(self) -> None:
        """A weekly recompute gives every account a health history; the last one is now."""
        accounts = self.story.accounts
        first = min(account.since for account in accounts) + timedelta(days=1)
        moment = datetime.combine(first.date(), time(2, 30), tzinfo=first.tzinfo)
        while moment <= self.horizon:
            existing = tuple(account.key for account in accounts if account.since <= moment)
            self.add(Recompute(moment, existing))
            moment += timedelta(days=7)
        # After everything else planned for now, so that it sees all of it.
        self.story.steps.append(Recompute(self.now, tuple(account.key for account in accounts)))

    # -- helpers -----------------------------------------------------------------------

    def add(self, step: Step) -> bool:
        """Plan ``step`` if it has happened by now; a step still in the future is left out."""
        if step.at > self.horizon:
            return False
        self.story.steps.append(step)
        return True

    def between(self, start: datetime, end: datetime, low: float, high: float) -> datetime:
        return start + (end - start) * self.rng.uniform(low, high)

    def note(self, kind: str, contact: str, rep: str = "") -> str:
        return self.rng.choice(NOTES[kind]).format(contact=contact, rep=rep)


# --- playing it ----------------------------------------------------------------------------


class _Clock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@contextmanager
def _story_time(start: datetime) -> Iterator[_Clock]:
    """Make ``timezone.now()`` answer the story's time while the story is played."""
    real_now = timezone.now
    clock = _Clock(start)
    timezone.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = real_now


def seed(*, seed: int = DEFAULT_SEED, now: datetime | None = None) -> Story:
    """Plan the story and write it, all or nothing; returns the story played."""
    story = plan_story(seed=seed, now=now or timezone.now())
    # The story's own recomputes stand for the jobs: no recompute task per write.
    with (
        override_settings(
            PASSWORD_HASHERS=["relcrm.demo.DemoPasswordHasher"], RELCRM_RECOMPUTE_ON_WRITE=False
        ),
        transaction.atomic(),
    ):
        _Player(story).play()
    return story


class _Player:
    def __init__(self, story: Story):
        self.story = story
        self.users: dict[str, User] = {}
        self.accounts: dict[str, Account] = {}
        self.contacts: dict[str, list[Contact]] = {}
        self.promises: dict[int, Promise] = {}
        # Their creation time, back-dated in one statement at the end.
        self.logged: list[Interaction] = []

    def play(self) -> None:
        story = self.story
        start = min(account.since for account in story.accounts) - timedelta(days=30)
        with _story_time(start) as clock:
            self.create_people(start)
            for plan in story.accounts:
                clock.moment = plan.since
                self.create_account(plan)
            for step in story.steps:
                clock.moment = step.at
                self.play_step(step)
            self.review_health_alerts(clock)
        Interaction.objects.bulk_update(self.logged, ["created_at"], batch_size=500)

    def create_people(self, start: datetime) -> None:
        teams = {name: account_services.create_team(name=name) for name in TEAMS}
        Team.objects.filter(pk__in=[team.pk for team in teams.values()]).update(created_at=start)
        for person in PEOPLE:
            self.users[person.username] = account_services.create_user(
                username=person.username,
                password=PASSWORD,
                email=f"{person.username}@relcrm.example",
                team=teams[person.team] if person.team else None,
                role=person.role,
                first_name=person.first_name,
                last_name=person.last_name,
            )
        User.objects.filter(pk__in=[user.pk for user in self.users.values()]).update(
            date_joined=start
        )

    def create_account(self, plan: AccountPlan) -> None:
        account = account_services.create_account(
            name=plan.name, domain=plan.domain, owner=self.users[plan.owner]
        )
        self.accounts[plan.key] = account
        self.contacts[plan.key] = [
            account_services.create_contact(
                account=account,
                first_name=contact.first_name,
                last_name=contact.last_name,
                title=contact.title,
                email=contact.email,
                phone=contact.phone,
            )
            for contact in plan.contacts
        ]
        Account.objects.filter(pk=account.pk).update(created_at=plan.since)
        Contact.objects.filter(account=account).update(created_at=plan.since)

    def play_step(self, step: Step) -> None:
        match step:
            case Sweep():
                promise_services.flag_overdue_promises(now=step.at)
            case Recompute():
                trust_services.compute_trust_health(
                    account_ids=[self.accounts[key].pk for key in step.accounts], as_of=step.at
                )
            case Log():
                self.log(step)
            case Transition(action="keep"):
                promise_services.keep_promise(self.promises[step.promise], by=self.users[step.by])
            case Transition(action="break"):
                promise_services.break_promise(
                    self.promises[step.promise], by=self.users[step.by], note=step.note
                )
            case Transition(action="release"):
                promise_services.release_promise(
                    self.promises[step.promise], by=self.users[step.by], note=step.note
                )
            case Transition(action="renegotiate"):
                assert step.due_at is not None  # a renegotiation always plans its new time
                promise_services.renegotiate_promise(
                    self.promises[step.promise],
                    by=self.users[step.by],
                    due_at=step.due_at,
                    note=step.note,
                )
            case Transition(action="acknowledge"):
                promise_services.acknowledge_alert(
                    self.alert(step.promise), by=self.users[step.by], note=step.note
                )
            case Transition(action="resolve"):
                promise_services.resolve_alert(
                    self.alert(step.promise), by=self.users[step.by], note=step.note
                )
            case _:
                raise ValueError(f"Unknown step {step!r}")

    def log(self, step: Log) -> None:
        contacts = self.contacts[step.account]
        interaction, _ = promise_services.log_interaction(
            account=self.accounts[step.account],
            logged_by=self.users[step.by],
            kind=step.kind,
            direction=step.direction,
            occurred_at=step.occurred_at,
            summary=step.summary,
            sentiment=step.sentiment,
            contacts=[contacts[index] for index in step.contacts],
            external_id=step.external_id,
            promises=[
                {
                    "description": promise.description,
                    "due_at": promise.due_at,
                    "contact": contacts[promise.contact] if promise.contact is not None else None,
                }
                for promise in step.promises
            ],
        )
        interaction.created_at = step.at
        self.logged.append(interaction)
        if step.promises:
            made = interaction.promises.order_by("id")
            for plan, promise in zip(step.promises, made, strict=True):
                self.promises[plan.key] = promise

    def review_health_alerts(self, clock: _Clock) -> None:
        """Leads look at the accounts that fell to at risk: the older drops are dealt with.

        Health alerts come from the recomputes, so they are not in the plan; each
        is reviewed at its own time (reviews change nothing the story reads later).
        """
        now = self.story.now
        leads = {
            person.team: self.users[person.username] for person in PEOPLE if person.role == "lead"
        }
        drops = Alert.objects.filter(kind=Alert.Kind.HEALTH_DROP).select_related(
            "account__team", "account__owner"
        )
        for alert in drops.order_by("created_at", "id"):
            lead = leads[alert.account.team.name]
            acknowledged_at = alert.created_at + timedelta(hours=5)
            resolved_at = alert.created_at + timedelta(days=3)
            # Older drops are resolved, last week's acknowledged, this week's still open.
            if resolved_at <= now - timedelta(days=7):
                clock.moment = resolved_at
                promise_services.resolve_alert(
                    alert,
                    by=lead,
                    note=f"Went through {alert.account} with {alert.account.owner}; "
                    "a recovery plan is agreed with the customer.",
                )
            elif alert.created_at <= now - timedelta(days=3):
                clock.moment = acknowledged_at
                promise_services.acknowledge_alert(alert, by=lead)

    def alert(self, promise_key: int) -> Alert:
        return Alert.objects.get(kind=Alert.Kind.PROMISE_BROKEN, promise=self.promises[promise_key])

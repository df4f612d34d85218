"""The reference data set (docs/architecture.md, "Performance"), for the generator and runner.

Sizes scale with ``SCALE`` (1 = the reference: 100,000 accounts, 5,000,000
interactions); teams and users do not, because they are the organisation
rather than its history. A few facts are fixed so that the runner can find
what it measures without scanning: the account with 5,000 interactions (the
timeline and one-account recompute) is always account 1, and the team lead of
its team is the user the API is called as.
"""

import os
import sys
from dataclasses import dataclass

from django.db import connection

REFERENCE = {
    "accounts": 100_000,
    "contacts": 300_000,
    "interactions": 5_000_000,
    "promises": 500_000,
}
TEAMS = 50
USERS = 500
# The account with the most interactions: its timeline and its one-account
# recompute are the worst cases the targets are stated for.
HEAVY_ACCOUNT_ID = 1
HEAVY_ACCOUNT_INTERACTIONS = 5_000
# The top 1% of accounts hold about this share of all interactions.
TOP_SHARE = 0.30
HISTORY_YEARS = 5


@dataclass(frozen=True)
class Sizes:
    """Row counts for one scale; ``interactions`` and ``promises`` are targets, met closely."""

    scale: float
    accounts: int
    contacts: int
    interactions: int
    promises: int
    teams: int = TEAMS
    users: int = USERS

    @classmethod
    def for_scale(cls, scale: float) -> "Sizes":
        # Accounts come in multiples of 5 so that contacts (1 to 5 per account,
        # 3 on average) add up to exactly three per account.
        accounts = max(100, round(REFERENCE["accounts"] * scale / 5) * 5)
        return cls(
            scale=scale,
            accounts=accounts,
            contacts=accounts * 3,
            interactions=max(10_000, round(REFERENCE["interactions"] * scale)),
            promises=max(1_000, round(REFERENCE["promises"] * scale)),
        )

    @property
    def heavy_interactions(self) -> int:
        """5,000, unless the whole top 1% share is smaller (tiny scales)."""
        return min(HEAVY_ACCOUNT_INTERACTIONS, int(self.interactions * TOP_SHARE))


def scale_from_env() -> float:
    """``SCALE`` from the environment (default 1); a clear exit on a bad value."""
    raw = os.environ.get("SCALE", "1") or "1"
    try:
        scale = float(raw)
    except ValueError:
        sys.exit(f"SCALE must be a number such as 0.01, 0.1 or 1, not {raw!r}.")
    if not 0 < scale <= 10:
        sys.exit(f"SCALE must be in (0, 10], not {scale}.")
    return scale


def require_postgres() -> None:
    """Stop with a clear message unless ``DATABASE_URL`` names the server to measure.

    The data generator empties the project's tables, so it never falls back on the
    embedded server that ``make run`` keeps the demo in, and the figures are only
    meaningful on a server configured like production's.
    """
    if not os.environ.get("DATABASE_URL"):
        sys.exit(
            "The benchmarks need their own database: set "
            "DATABASE_URL=postgres://USER@HOST:PORT/NAME (created if missing; its tables "
            "are emptied). See benchmarks/README.md."
        )


def create_database_if_missing() -> None:
    """Create the database ``DATABASE_URL`` names when the server has none by that name."""
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
        return
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    name = connection.settings_dict["NAME"]
    # Connected to the server's maintenance database, as Django creates a test database.
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    print(f"created database {name}", flush=True)

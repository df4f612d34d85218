"""The health page of an account: its score, what it is made of, why, and its history."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.views import visible_account
from trust.models import TrustSnapshot
from trust.selectors import snapshot_history

HISTORY_SIZE = 200

# What each component of the score asks of the relationship, in the rep's words.
COMPONENT_QUESTIONS = {
    "reliability": "Do we keep what we promise?",
    "recovery": "When a promise slips, do we repair it quickly?",
    "engagement": "Do we stay in touch at the relationship's usual rhythm?",
    "sentiment": "How have recent conversations felt?",
    "responsiveness": "Do we answer the customer quickly?",
}


def component_rows(snapshot: TrustSnapshot | None) -> list[dict]:
    """The snapshot's components, heaviest first, ready to show."""
    if snapshot is None or not isinstance(snapshot.components, dict):
        return []
    rows = []
    for name, component in snapshot.components.items():
        component = component if isinstance(component, dict) else {}
        rows.append(
            {
                "name": name.replace("_", " ").capitalize(),
                "question": COMPONENT_QUESTIONS.get(name, ""),
                "value": component.get("value"),
                "weight": component.get("weight"),
                "points": component.get("points"),
            }
        )
    return sorted(rows, key=lambda row: -(row["weight"] or 0))


@login_required
def account_health(request, pk: int):
    account = visible_account(request.user, pk)
    history = list(snapshot_history(account.pk)[:HISTORY_SIZE])[::-1]
    snapshot = history[-1] if history else None
    return render(
        request,
        "trust/health.html",
        {
            "account": account,
            "snapshot": snapshot,
            "components": component_rows(snapshot),
            "points": [(item.computed_at, item.score) for item in history],
            "history": history[::-1],
        },
    )

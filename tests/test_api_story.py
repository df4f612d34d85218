"""The story of an integration, over HTTP alone: sign in, log, list, keep, review."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken


def iso(moment):
    return moment.isoformat()


def test_an_integration_does_everything_over_http_and_another_team_sees_none_of_it(admin_user):
    admin = APIClient()
    token = admin.post(
        "/api/v1/auth/token/",
        {"username": "root", "password": "correct-horse-battery"},
        format="json",
    )
    assert token.status_code == 200, token.content
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}")

    north = admin.post("/api/v1/teams/", {"name": "North"}, format="json").json()
    south = admin.post("/api/v1/teams/", {"name": "South"}, format="json").json()
    for username, team in (("nina", north), ("sam", south)):
        created = admin.post(
            "/api/v1/users/",
            {
                "username": username,
                "password": "s3cret-enough-pw",
                "email": f"{username}@x.io",
                "team": team["id"],
                "role": "rep",
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        assert "password" not in created.json()

    nina, sam = APIClient(), APIClient()
    for client, username in ((nina, "nina"), (sam, "sam")):
        answer = client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": "s3cret-enough-pw"},
            format="json",
        )
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['token']}")

    account = nina.post("/api/v1/accounts/", {"name": "Acme", "domain": "acme.test"}, format="json")
    assert account.status_code == 201, account.content
    account = account.json()
    assert account["team"] == north["id"] and account["health"] is None
    contact = nina.post(
        "/api/v1/contacts/",
        {"account": account["id"], "first_name": "Ada", "last_name": "Lovelace"},
        format="json",
    ).json()

    now = timezone.now()
    call = nina.post(
        "/api/v1/interactions/",
        {
            "account": account["id"],
            "contacts": [contact["id"]],
            "kind": "call",
            "direction": "outbound",
            "occurred_at": iso(now - timedelta(minutes=5)),
            "summary": "Discussed the renewal",
            "sentiment": 1,
            "promises": [
                {"description": "Send the revised quote", "due_at": iso(now + timedelta(days=2))},
                {
                    "description": "Book the demo",
                    "due_at": iso(now + timedelta(days=5)),
                    "contact": contact["id"],
                },
            ],
        },
        format="json",
    )
    assert call.status_code == 201, call.content
    quote, demo = call.json()["promises"]
    assert quote["status"] == "open" and demo["contact"] == contact["id"]

    kept = nina.post(f"/api/v1/promises/{quote['id']}/keep/", {}, format="json")
    assert kept.status_code == 200 and kept.json()["kept_on_time"] is True
    moved = nina.post(
        f"/api/v1/promises/{demo['id']}/renegotiate/",
        {"due_at": iso(now + timedelta(days=9)), "note": "Customer asked for next week"},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    broken = nina.post(
        f"/api/v1/promises/{demo['id']}/break/", {"note": "Demo team away"}, format="json"
    )
    assert broken.json()["status"] == "broken"
    again = nina.post(f"/api/v1/promises/{demo['id']}/release/", {"note": ""}, format="json")
    assert again.status_code == 409 and "detail" in again.json()
    events = nina.get(f"/api/v1/promises/{demo['id']}/events/").json()["results"]
    assert [e["kind"] for e in events] == ["created", "renegotiated", "broken"]

    assert sam.get(f"/api/v1/accounts/{account['id']}/").status_code == 404
    assert sam.get("/api/v1/promises/").json()["results"] == []
    assert sam.get(f"/api/v1/promises/{demo['id']}/events/").status_code == 404
    assert ApiToken.objects.count() == 3

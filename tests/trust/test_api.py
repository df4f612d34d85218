"""The trust-health endpoints and the health on every account."""

from datetime import timedelta

from django.utils import timezone

from promises import services as promise_services
from tests.factories import AccountFactory, PromiseFactory
from trust import services
from trust.models import TrustSnapshot


def test_an_accounts_health_is_computed_on_first_read(rep_client, team_a):
    account = AccountFactory(owner=team_a.rep)
    response = rep_client.get(f"/api/v1/accounts/{account.pk}/health/")
    assert response.status_code == 200
    health = response.json()
    assert health["band"] in {"healthy", "watch", "at_risk"}
    assert isinstance(health["score"], float) and isinstance(health["confidence"], float)
    assert set(health["components"]) == {
        "reliability",
        "recovery",
        "engagement",
        "sentiment",
        "responsiveness",
    }
    assert TrustSnapshot.objects.filter(account=account).count() == 1


def test_the_health_explains_itself_in_plain_words(rep_client, team_a):
    account = AccountFactory(owner=team_a.rep)
    promise = PromiseFactory(account=account, due_at=timezone.now() - timedelta(hours=2))
    promise_services.break_promise(promise, by=team_a.rep)
    services.compute_account_health(account.pk)
    health = rep_client.get(f"/api/v1/accounts/{account.pk}/health/").json()
    texts = [fact["text"] for fact in health["explanation"]]
    assert any("broken silently" in text for text in texts), texts
    assert all(fact["effect"] < 0 for fact in health["explanation"] if "broken" in fact["text"])


def test_the_history_lists_snapshots_newest_first(rep_client, team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_account_health(account.pk, as_of=timezone.now() - timedelta(days=200))
    promise_services.keep_promise(PromiseFactory(account=account), by=team_a.rep)
    services.compute_account_health(account.pk)
    response = rep_client.get(f"/api/v1/accounts/{account.pk}/health/history/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 2
    assert results[0]["computed_at"] >= results[1]["computed_at"]
    assert results[0]["score"] > results[1]["score"]


def test_each_account_in_the_list_carries_its_latest_health(rep_client, team_a):
    computed, fresh = AccountFactory(owner=team_a.rep), AccountFactory(owner=team_a.rep)
    services.compute_account_health(computed.pk)
    by_id = {row["id"]: row for row in rep_client.get("/api/v1/accounts/").json()["results"]}
    assert by_id[fresh.pk]["health"] is None
    health = by_id[computed.pk]["health"]
    snapshot = TrustSnapshot.objects.get(account=computed)
    assert health["score"] == snapshot.score and health["band"] == snapshot.band
    assert set(health) == {"score", "band", "confidence", "computed_at"}


def test_the_band_filter_finds_accounts_at_risk(rep_client, team_a):
    healthy, risky = AccountFactory(owner=team_a.rep), AccountFactory(owner=team_a.rep)
    for _ in range(4):
        promise = PromiseFactory(account=risky, due_at=timezone.now() - timedelta(hours=1))
        promise_services.break_promise(promise, by=None)
    services.compute_trust_health(all_accounts=True)
    ids = [row["id"] for row in rep_client.get("/api/v1/accounts/?band=at_risk").json()["results"]]
    assert ids == [risky.pk]
    assert healthy.pk not in ids


def test_another_teams_health_is_not_found(other_team_client, team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_account_health(account.pk)
    for url in (
        f"/api/v1/accounts/{account.pk}/health/",
        f"/api/v1/accounts/{account.pk}/health/history/",
    ):
        assert other_team_client.get(url).status_code == 404
    assert TrustSnapshot.objects.filter(account=account).count() == 1


def test_health_needs_credentials(client, team_a):
    account = AccountFactory(owner=team_a.rep)
    assert client.get(f"/api/v1/accounts/{account.pk}/health/").status_code == 401

"""/api/v1/teams/ and /api/v1/users/: read by everyone in scope, created by admins."""

import pytest

from accounts.models import Team, User

GOOD_PASSWORD = "s3cret-enough-pw"


def names(answer, key):
    assert answer.status_code == 200, answer.content
    return {row[key] for row in answer.json()["results"]}


def test_a_rep_sees_only_their_own_team(team_a, team_b, rep_client):
    assert names(rep_client.get("/api/v1/teams/"), "name") == {team_a.team.name}


def test_an_admin_sees_every_team(team_a, team_b, admin_client_api):
    assert names(admin_client_api.get("/api/v1/teams/"), "name") == {
        team_a.team.name,
        team_b.team.name,
    }


def test_an_admin_creates_a_team(admin_client_api):
    answer = admin_client_api.post("/api/v1/teams/", {"name": "East"}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["name"] == "East"
    assert Team.objects.filter(name="East").exists()


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "Northwind sales"}, ["East"]])
def test_a_bad_team_is_a_400(team_a, admin_client_api, body):
    answer = admin_client_api.post("/api/v1/teams/", body, format="json")
    assert answer.status_code == 400
    assert Team.objects.count() == 1


@pytest.mark.parametrize("role", ["rep", "lead"])
@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("teams", {"name": "Rogue"}),
        (
            "users",
            {"username": "mallory", "password": GOOD_PASSWORD, "role": "rep", "team": None},
        ),
    ],
)
def test_only_admins_create_teams_and_users(team_a, as_user, role, endpoint, body):
    user = team_a.rep if role == "rep" else team_a.lead
    if endpoint == "users":
        body = {**body, "team": team_a.team.pk}
    before = (Team.objects.count(), User.objects.count())

    answer = as_user(user).post(f"/api/v1/{endpoint}/", body, format="json")

    assert answer.status_code == 403
    assert (Team.objects.count(), User.objects.count()) == before


def test_a_rep_sees_the_people_of_their_team_only(team_a, team_b, rep_client):
    assert names(rep_client.get("/api/v1/users/"), "username") == {"alice", "andy", "laura"}


def test_users_show_their_role_and_team(team_a, rep_client):
    rows = {row["username"]: row for row in rep_client.get("/api/v1/users/").json()["results"]}
    assert (rows["laura"]["role"], rows["laura"]["team"]) == ("lead", team_a.team.pk)
    assert rows["alice"]["role"] == "rep"
    assert all("password" not in row for row in rows.values())


@pytest.mark.parametrize("role", ["rep", "lead"])
def test_an_admin_creates_a_rep_or_a_lead_of_a_team(team_a, admin_client_api, role):
    answer = admin_client_api.post(
        "/api/v1/users/",
        {
            "username": "nina",
            "password": GOOD_PASSWORD,
            "email": "nina@x.io",
            "team": team_a.team.pk,
            "role": role,
        },
        format="json",
    )

    assert answer.status_code == 201, answer.content
    assert (answer.json()["role"], answer.json()["team"]) == (role, team_a.team.pk)
    assert "password" not in answer.json()
    nina = User.objects.get(username="nina")
    assert nina.check_password(GOOD_PASSWORD)
    assert nina.role == role


def test_an_admin_creates_another_admin_in_no_team(admin_client_api):
    answer = admin_client_api.post(
        "/api/v1/users/",
        {"username": "root2", "password": GOOD_PASSWORD, "role": "admin"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert (answer.json()["role"], answer.json()["team"]) == ("admin", None)
    assert User.objects.get(username="root2").is_superuser


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "rep", "team": None}, "team"),
        ({"role": "admin"}, "team"),
        ({"role": "boss"}, "role"),
        ({"password": "123"}, "password"),
        ({"username": "alice"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"team": 987654321}, "team"),
    ],
)
def test_a_bad_user_is_a_400_on_its_field_and_creates_nothing(
    team_a, admin_client_api, change, field
):
    body = {"username": "nina", "password": GOOD_PASSWORD, "team": team_a.team.pk, "role": "rep"}
    before = User.objects.count()

    answer = admin_client_api.post("/api/v1/users/", {**body, **change}, format="json")

    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert User.objects.count() == before

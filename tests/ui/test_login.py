"""Signing in and out, and the sign-in form's throttle shared with the API's."""

from django.test import Client

from tests.factories import PASSWORD


def test_the_sign_in_page_renders_without_a_session(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'<label for="id_username">Username</label>' in response.content


def test_pages_send_a_visitor_to_sign_in_first(client, db):
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/accounts/"


def test_a_rep_signs_in_and_the_top_bar_shows_their_team_and_role(client, team_a):
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert "Northwind sales · Rep" in home.content.decode()


def test_a_wrong_password_is_refused_with_a_message(client, team_a):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_is_throttled_per_address_and_username(client, team_a):
    for _ in range(10):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": "Alice", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another name from the same address has its own allowance.
    assert client.post("/login/", {"username": "andy", "password": PASSWORD}).status_code == 302


def test_the_form_and_the_token_endpoint_count_against_one_login_rate(client, team_a):
    api = Client()
    for _ in range(10):
        api.post(
            "/api/v1/auth/token/",
            {"username": "alice", "password": "wrong"},
            content_type="application/json",
        )
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_signing_out_takes_a_post_and_ends_the_session(signed_in, team_a):
    client = signed_in(team_a.rep)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302

"""The places a person signs in, as one call each, for the sign-in tests."""

from django.test import Client

TOKEN_URL = "/api/v1/auth/token/"
LOGIN_RATE = 10  # RELCRM_THROTTLE_LOGIN's default: 10/minute


def token_attempt(client: Client, username: str, password: str):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json"
    )


def form_attempt(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def admin_attempt(client: Client, username: str, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )

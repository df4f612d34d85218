"""Settings read from the environment, each checked in a fresh process as production starts one.

``SECRET_KEY`` is required with ``DEBUG`` off; ``make run`` (bin/serve) and ``DEBUG=1`` use
a random key made once and kept under ``var/``; ``RELCRM_HTTPS`` and
``RELCRM_TRUSTED_PROXIES`` turn on what ``manage.py check --deploy`` asks for.
"""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Settings only: nothing here connects to the database, but a URL keeps the embedded
# server from being started.
UNUSED_DATABASE = "postgres://nobody@127.0.0.1:1/unused"


@pytest.fixture
def run(tmp_path):
    """``run(*args, **env)``: this Python in the project with only ``env`` set (and PATH)."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        clean = {
            "PATH": os.environ["PATH"],
            "DATABASE_URL": UNUSED_DATABASE,
            "RELCRM_VAR_DIR": str(tmp_path / "var"),
            **env,
        }
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=90
        )

    return run


@pytest.fixture
def settings_of(run):
    """``settings_of(names, **env)``: those settings as a fresh process reads them from ``env``."""

    def settings_of(names: list[str], **env: str) -> dict:
        script = (
            "import json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'relcrm.settings');"
            "from django.conf import settings;"
            f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
        )
        done = run("-c", script, **env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    return settings_of


# --- SECRET_KEY ----------------------------------------------------------------------------


@pytest.mark.parametrize("unset", [{}, {"SECRET_KEY": ""}, {"DEBUG": "0"}])
def test_without_a_secret_key_and_debug_off_relcrm_refuses_to_start(run, unset):
    done = run("manage.py", "check", **unset)

    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr.strip().splitlines()[-1]


def test_a_secret_key_from_the_environment_is_used_as_it_is(settings_of):
    key = secrets.token_urlsafe(50)
    assert settings_of(["SECRET_KEY"], SECRET_KEY=key) == {"SECRET_KEY": key}


def test_with_debug_on_a_random_key_is_made_once_and_kept_under_var(settings_of, tmp_path):
    first = settings_of(["SECRET_KEY"], DEBUG="1")["SECRET_KEY"]
    again = settings_of(["SECRET_KEY"], DEBUG="1")["SECRET_KEY"]
    elsewhere = settings_of(["SECRET_KEY"], DEBUG="1", RELCRM_VAR_DIR=str(tmp_path / "other"))

    assert first == again
    assert len(first) >= 50
    assert elsewhere["SECRET_KEY"] != first
    kept = tmp_path / "var" / "secret_key"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # readable by its owner alone


def test_make_run_starts_every_process_with_the_same_kept_key(tmp_path):
    """bin/serve, with a stand-in for Python that notes the key each process would start with."""
    seen = tmp_path / "seen"
    stand_in = tmp_path / "python"
    stand_in.write_text(
        "#!/bin/sh\n"
        # The key itself is made by the real Python; every other process only notes it.
        f'if [ "$2" = relcrm.secret_key ]; then exec {sys.executable} "$@"; fi\n'
        f'echo "$2 $SECRET_KEY" >> {seen}\n'
    )
    stand_in.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "PY": str(stand_in),
        "DATABASE_URL": UNUSED_DATABASE,
        "RELCRM_VAR_DIR": str(tmp_path / "var"),
    }
    for _ in range(2):
        done = subprocess.run(
            ["bin/serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr

    lines = [line.split() for line in seen.read_text().splitlines()]
    kept = (tmp_path / "var" / "secret_key").read_text().strip()
    # migrate and seed_demo run first, each time; the worker, beat and the web server follow
    # (the first of them to exit stops the others, maybe before they start).
    assert [what for what, _ in lines if what in ("migrate", "seed_demo")] == [
        "migrate",
        "seed_demo",
    ] * 2
    assert {key for _, key in lines} == {kept}


# --- HTTPS and proxies ---------------------------------------------------------------------

PRODUCTION = {"ALLOWED_HOSTS": "crm.example.com", "SECRET_KEY": secrets.token_urlsafe(50)}
HTTPS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
]


def test_with_relcrm_https_and_a_strong_key_check_deploy_passes(run):
    done = run(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        RELCRM_HTTPS="true", **PRODUCTION,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_relcrm_https_turns_on_redirect_hsts_and_secure_cookies(settings_of):
    assert settings_of(HTTPS_SETTINGS, RELCRM_HTTPS="true", **PRODUCTION) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        # No proxy in front: nobody's X-Forwarded-Proto is believed.
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_behind_trusted_proxies_their_word_on_https_and_the_client_counts(settings_of):
    read = settings_of(
        [*HTTPS_SETTINGS, "REST_FRAMEWORK"],
        RELCRM_HTTPS="true",
        RELCRM_TRUSTED_PROXIES="2",
        **PRODUCTION,
    )
    assert read["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert read["REST_FRAMEWORK"]["NUM_PROXIES"] == 2


def test_without_relcrm_https_a_laptop_serves_plain_http(settings_of):
    read = settings_of(HTTPS_SETTINGS, **PRODUCTION)
    assert read == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


REQUEST_SIGN_IN_PAGE = (
    "import json, os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'relcrm.settings');"
    "django.setup();"
    "from django.test import Client;"
    "answer = Client().get('/login/', HTTP_HOST='crm.example.com', **{headers});"
    "cookie = answer.cookies.get('csrftoken');"
    "print(json.dumps([answer.status_code, answer.get('Location'),"
    " answer.get('Strict-Transport-Security'), cookie and bool(cookie['secure'])]))"
)


def test_over_http_the_sign_in_page_redirects_to_https(run):
    done = run("-c", REQUEST_SIGN_IN_PAGE.format(headers={}), RELCRM_HTTPS="true", **PRODUCTION)
    assert json.loads(done.stdout) == [301, "https://crm.example.com/login/", None, None]


def test_behind_a_proxy_that_says_https_the_page_is_served_with_hsts(run):
    script = REQUEST_SIGN_IN_PAGE.format(headers={"HTTP_X_FORWARDED_PROTO": "https"})
    done = run("-c", script, RELCRM_HTTPS="true", RELCRM_TRUSTED_PROXIES="1", **PRODUCTION)
    assert json.loads(done.stdout) == [200, None, "max-age=31536000; includeSubDomains", True]

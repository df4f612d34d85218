"""The browser's protections on every page: a Content-Security-Policy with no inline script
or style but by its nonce, no sniffing of content types, no framing, a Referrer-Policy.

Each page is fetched as its user fetches it; its HTML is then read for what the policy
would block (a script or style without the nonce, a style or event-handler attribute),
so that what passes here also works in the browser (tests/ui/test_browser.py checks that
a real Chromium reports no violation).
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import AccountFactory
from tests.ui.conftest import health_history

ROOT = Path(__file__).resolve().parents[1]


def policy_of(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCode(HTMLParser):
    """What a page carries inline: scripts and styles (with their nonces), style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str | None]] = []  # (what, its nonce)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        executable = attributes.get("type") in (None, "", "module", "text/javascript")
        if tag == "script" and "src" not in attributes and executable:
            self.found.append(("inline script", attributes.get("nonce")))
        if tag == "style":
            self.found.append(("style element", attributes.get("nonce")))
        if "style" in attributes:
            self.found.append((f"style attribute on <{tag}>", None))
        for name in attributes:
            if name.startswith("on"):
                self.found.append((f"{name} handler on <{tag}>", None))


def blocked_inline_code(response) -> list[str]:
    """The inline code of a page that its own policy blocks."""
    parser = InlineCode()
    parser.feed(response.content.decode())
    nonces = {
        source.removeprefix("'nonce-").removesuffix("'")
        for source in policy_of(response).get("script-src", [])
        + policy_of(response).get("style-src", [])
        if source.startswith("'nonce-")
    }
    return [what for what, nonce in parser.found if nonce is None or nonce not in nonces]


@pytest.fixture
def pages(team_a, admin_user, as_user):
    """Every kind of page, as its user fetches it: (url, client)."""
    account = AccountFactory(owner=team_a.rep, name="Acme Corp")
    health_history(account, [62, 58, 51])
    rep, lead, admin = Client(), Client(), Client()
    rep.force_login(team_a.rep)
    lead.force_login(team_a.lead)
    admin.force_login(admin_user)
    return [
        ("/login/", Client()),
        ("/", rep),
        ("/accounts/", rep),
        (f"/accounts/{account.pk}/", rep),
        (f"/accounts/{account.pk}/health/", rep),
        (f"/accounts/{account.pk}/log/", rep),
        ("/promises/", rep),
        ("/alerts/", lead),
        ("/team/", lead),
        ("/admin/", admin),
        ("/admin/accounts/user/", admin),
        (f"/admin/accounts/user/{team_a.rep.pk}/change/", admin),
        ("/api/v1/accounts/", as_user(team_a.rep)),
        ("/api/v1/docs/", Client()),
        ("/api/v1/schema/", Client()),
    ]


def test_every_page_carries_the_security_headers(pages):
    for url, client in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = policy_of(response)
        assert policy["default-src"] == ["'self'"], url
        for directive in ("script-src", "style-src"):
            sources = policy.get(directive, policy["default-src"])
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(sources), (url, sources)
        assert policy["object-src"] == ["'none'"], url
        assert policy["base-uri"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url


def test_no_page_has_inline_code_the_policy_blocks(pages):
    for url, client in pages:
        response = client.get(url)
        if response["Content-Type"].startswith("text/html"):
            assert blocked_inline_code(response) == [], url


def test_the_api_docs_load_only_their_own_scripts(client, db):
    page = client.get("/api/v1/docs/").content.decode()
    sources = re.findall(r'<script[^>]* src="([^"]+)"', page)
    assert sources, "the docs page loads no script"
    # Served from here (the sidecar's files and the docs' own setup), nothing from a CDN.
    assert all(source.startswith("/") for source in sources), sources


def test_no_template_writes_inline_code_without_a_nonce():
    """Templates no test renders are held to the same rule, by reading them."""
    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        text = template.read_text()
        for match in re.finditer(r"<(script|style)\b[^>]*>", text):
            tag = match.group(0)
            if "nonce=" not in tag and not (match.group(1) == "script" and " src=" in tag):
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
        for match in re.finditer(r"<[a-z][^>]*\s(style|on[a-z]+)=", text):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(1)}= attribute")
    assert offenders == []

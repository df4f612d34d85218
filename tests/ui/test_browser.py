"""End to end in Debian's Chromium: a rep logs a call and keeps a promise; a lead reviews alerts.

Each step also saves a screenshot (desktop 1280 wide and a phone 390 wide) under
tests/screenshots/. The README's docs/account-page.png is not one of them: it shows the
demo data (``seed_demo``), not this test's.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from interactions.models import Interaction
from promises import services
from promises.models import Alert, Promise
from tests.conftest import CHROMIUM
from tests.factories import PASSWORD, AccountFactory, ContactFactory, InteractionFactory
from tests.ui.conftest import health_history

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Reports every Content-Security-Policy violation of every page to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => window.reportCspViolation(
  `${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
  + ` (${event.sourceFile}:${event.lineNumber})`
  + ` on ${(event.target.outerHTML || "").slice(0, 300)}`));
"""


@pytest.fixture
def page(chromium, live_server):
    """A browser tab on the live server; the test fails if any page broke its own CSP."""
    context = chromium.new_context(base_url=live_server.url, viewport=DESKTOP)
    violations = []
    context.expose_function("reportCspViolation", lambda violation: violations.append(violation))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert violations == [], "the Content-Security-Policy blocked what a page needs"


def shoot(page: Page, name: str, *, phone: bool = False, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{'phone' if phone else 'desktop'}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def shoot_both(page: Page, name: str) -> None:
    """A desktop and a phone screenshot of the page as it is now."""
    shoot(page, name)
    page.set_viewport_size(PHONE)
    shoot(page, name, phone=True)
    page.set_viewport_size(DESKTOP)


def named(user, first_name: str, last_name: str) -> None:
    user.first_name, user.last_name = first_name, last_name
    user.save(update_fields=["first_name", "last_name"])


def sign_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def other_relationships(owner) -> None:
    """A few more of the rep's accounts, so that the home page shows a real list."""
    now = timezone.now()
    for name, scores in (
        ("Globex", [52, 47, 41, 36, 31]),
        ("Initech", [60, 63, 66, 70, 74, 79]),
        ("Umbrella Health", [71, 69, 66, 64, 62]),
        ("Stark Logistics", [88, 86, 89, 91]),
    ):
        account = AccountFactory(name=name, domain=f"{name.split()[0].lower()}.test", owner=owner)
        health_history(account, scores)
        InteractionFactory(account=account, occurred_at=now - timedelta(days=len(name)))
    slipped = AccountFactory(name="Hooli", domain="hooli.test", owner=owner)
    services.create_promise(
        account=slipped,
        description="Send the security questionnaire",
        due_at=now - timedelta(days=1),
        by=owner,
    )
    services.flag_overdue_promises()


def test_a_rep_logs_a_call_with_two_commitments_and_keeps_one(page, story, team_a):
    named(team_a.rep, "Alice", "Martin")
    other_relationships(team_a.rep)
    services.keep_promise(story.quote, by=team_a.rep)
    services.renegotiate_promise(
        story.demo,
        by=team_a.rep,
        due_at=story.demo.due_at + timedelta(days=3),
        note="Grace is away until Thursday",
    )
    page.goto("/login/")
    shoot(page, "login", full_page=False)
    sign_in(page, "alice")
    expect(page.get_by_role("link", name="Acme Corp", exact=True)).to_be_visible()
    expect(page.locator(".rel-table svg.spark").first).to_be_visible()
    shoot_both(page, "home")

    page.get_by_role("link", name="Log an interaction with Acme Corp").click()
    expect(page.get_by_role("heading", name="Log an interaction")).to_be_visible()
    page.get_by_role("checkbox", name="Ada Lovelace").check()
    page.get_by_label("Summary").fill("Follow-up call: pricing agreed, they need the contract.")
    page.get_by_role("radio", name="Very positive").check()
    page.get_by_label("We promised").fill("Send the contract for signature")
    logged = Interaction.objects.count()
    page.get_by_label("We promised").press("Control+Enter")
    expect(page.locator("#id_commitments-0-due_date_error")).to_have_text("This field is required.")
    expect(page.get_by_label("Due by")).to_be_focused()
    assert Interaction.objects.count() == logged
    shoot(page, "log-form-error")
    first = page.locator("#commitment-rows .commitment").nth(0)
    first.get_by_role("button", name="Tomorrow").click()
    page.get_by_role("button", name="+ Add a commitment").click()
    second = page.locator("#commitment-rows .commitment").nth(1)
    expect(second.get_by_label("We promised")).to_be_focused()
    page.keyboard.type("Introduce our onboarding lead")
    second.get_by_role("button", name="Friday").click()
    shoot_both(page, "log-form")
    second.get_by_label("We promised").press("Control+Enter")

    expect(page.get_by_text("Call logged with 2 commitments.")).to_be_visible()
    contract = Promise.objects.get(description="Send the contract for signature")
    onboarding = Promise.objects.get(description="Introduce our onboarding lead")
    assert contract.interaction_id == onboarding.interaction_id
    assert list(contract.interaction.contacts.all()) == [story.ada]
    card = page.locator(f"#promise-{contract.pk}")
    expect(card).to_contain_text("Open")
    expect(page.locator(f"#promise-{onboarding.pk}")).to_be_visible()

    card.get_by_role("button", name="Keep").click()
    expect(card).to_contain_text("Kept on time")
    expect(page.locator("#timeline-list > li").first).to_contain_text("Kept on time")
    expect(page.locator("#open-promises")).not_to_contain_text("Send the contract")
    contract.refresh_from_db()
    assert contract.status == Promise.Status.KEPT
    shoot_both(page, "account")
    page.reload()  # the page as the rep finds it next time, without the "logged" message
    expect(page.locator(f"#promise-{contract.pk}")).to_contain_text("Kept on time")

    page.get_by_role("link", name="How the score is made, and its history →").click()
    expect(page.get_by_role("heading", name="Trust health")).to_be_visible()
    expect(page.locator("svg.chart")).to_be_visible()
    shoot_both(page, "health")

    # A new contact, added from the account page's own form.
    page.go_back()
    page.get_by_text("+ Add a contact").click()
    page.get_by_label("First name").fill("Linus")
    page.get_by_label("E-mail").fill("linus@acme.test")
    page.get_by_role("button", name="Add the contact").click()
    expect(page.get_by_text("Linus added.")).to_be_visible()
    expect(page.locator(".contacts")).to_contain_text("linus@acme.test")

    # My promises: the open ones, kept right there.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My promises").click()
    listed = page.locator(f"#promise-{onboarding.pk}")
    listed.get_by_role("button", name="Keep").click()
    expect(listed).to_contain_text("Kept on time")


def test_a_lead_acknowledges_and_resolves_alerts(page, story, team_a):
    named(team_a.rep, "Alice", "Martin")
    named(team_a.other_rep, "Andy", "Chen")
    named(team_a.lead, "Laura", "Okafor")
    broken = services.break_promise(
        story.demo, by=team_a.rep, note="Our demo environment is down this week"
    )
    services.raise_health_drop_alert(story.account, detail="Health fell from 55 to 38.")
    other = AccountFactory(name="Globex", owner=team_a.other_rep)
    ContactFactory(account=other)
    health_history(other, [45, 41, 36, 33])
    andys = AccountFactory(name="Initech", owner=team_a.other_rep)
    for days in (1, 2, 3, -1):
        kept = services.create_promise(
            account=andys,
            description="Weekly report",
            due_at=timezone.now() + timedelta(days=days),
            by=team_a.other_rep,
        )
        services.keep_promise(kept, by=team_a.other_rep)
    promise_alert = Alert.objects.get(promise=broken)
    drop_alert = Alert.objects.get(kind=Alert.Kind.HEALTH_DROP)

    sign_in(page, "laura")
    expect(page.get_by_role("link", name="2 open alerts")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.locator(".alert-row")).to_have_count(2)
    shoot_both(page, "alerts")

    row = page.locator(f"#alert-{promise_alert.pk}")
    row.get_by_role("button", name="Acknowledge").click()
    expect(row).to_contain_text("Acknowledged by")
    row.locator("summary", has_text="Resolve").click()
    row.get_by_label("What was done").fill("Called Grace; the demo is booked for Monday.")
    row.get_by_role("button", name="Mark resolved").click()
    expect(row).to_contain_text("Resolved")
    promise_alert.refresh_from_db()
    assert promise_alert.status == Alert.Status.RESOLVED
    assert promise_alert.note == "Called Grace; the demo is booked for Monday."

    page.get_by_label(f"Select the alert on {drop_alert.account.name}").check()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.get_by_text("1 alert acknowledged.")).to_be_visible()
    drop_alert.refresh_from_db()
    assert drop_alert.status == Alert.Status.ACKNOWLEDGED

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Promise-keeping record")).to_be_visible()
    expect(page.get_by_role("link", name="Globex", exact=True)).to_be_visible()
    shoot_both(page, "team")


def test_the_api_docs_work_under_the_content_security_policy(page):
    page.goto("/api/v1/docs/")
    operations = page.locator(".opblock-summary-path")
    expect(operations.filter(has_text="/api/v1/accounts/").first).to_be_visible()
    assert page.locator(".opblock").count() > 20  # every operation, from the schema
    page.locator(".opblock-summary", has_text="/api/v1/auth/token/").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    shoot(page, "api-docs", full_page=False)


def test_the_admin_works_under_the_content_security_policy(page, admin_user, team_a):
    page.goto("/admin/accounts/user/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Select user to change")).to_be_visible()
    page.get_by_role("link", name=team_a.rep.username, exact=True).click()
    # The permissions chooser is built by the admin's scripts.
    expect(page.locator("#id_user_permissions_filter")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Tables")).to_be_visible()


def test_bars_are_sized_by_the_script_not_by_style_attributes(page, team_a):
    """The health meters and the team's record bars take their size from data attributes."""
    account = AccountFactory(name="Acme Corp", owner=team_a.rep)
    health_history(account, [62, 58, 51])
    sign_in(page, team_a.rep.username)
    page.goto(f"/accounts/{account.pk}/health/")
    meter = page.locator(".meter").first
    fill = meter.locator("span")
    fraction = float(fill.get_attribute("data-fraction"))
    ratio = fill.bounding_box()["width"] / meter.bounding_box()["width"]
    assert ratio == pytest.approx(fraction, abs=0.02)

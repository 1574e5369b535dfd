"""Real Chromium: log in through the form and find the dashboard."""

import pytest

from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def member(transactional_db):
    user = UserFactory(username="ann@acme.test")
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="Acme shop"))
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="Globex"))
    return user


def log_in(page, live_server, email="ann@acme.test", password=PASSWORD):
    page.goto(live_server.url + "/")
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_user_logs_in_and_sees_the_dashboard(page, live_server, member):
    log_in(page, live_server)
    page.wait_for_url("**/w/*/**")
    nav = page.get_by_role("navigation", name="Main")
    for section in ("Anonymous", "People", "Activity", "Segments", "Settings"):
        assert nav.get_by_role("link", name=section).is_visible()
    assert page.locator(".switcher-name").first.inner_text() == "Acme shop"

    nav.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")
    assert page.get_by_role("heading", name="Install the SDK").is_visible()
    assert "cioanalytics" in page.locator("#snippet").inner_text()

    # The switcher opens the same page in the other workspace.
    page.locator(".switcher summary").click()
    page.get_by_role("link", name="Globex").click()
    page.wait_for_url("**/settings/")
    assert page.locator(".switcher-name").first.inner_text() == "Globex"


def test_a_wrong_password_shows_a_clear_error_in_the_browser(page, live_server, member):
    log_in(page, live_server, password="wrong password")
    alert = page.get_by_role("alert")
    assert "do not match an account" in alert.inner_text()
    assert "/accounts/login/" in page.url


def test_on_a_phone_the_navigation_opens_from_the_menu_button(page, live_server, member):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server)
    page.wait_for_url("**/w/*/**")
    settings_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")
    assert not settings_link.is_visible()
    page.get_by_label("Menu").click()
    assert settings_link.is_visible()
    settings_link.click()
    page.wait_for_url("**/settings/")

"""The account pages in real Chromium, keyboard only: the setup link creates the first admin, the admin
creates a carer and grants a user, the carer logs in and is sent back to the page they asked for; an admin
deletes an export held on the server from /admin; axe-core finds nothing on /login, the setup page or
/admin, and every button is at least 44x44 CSS px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.storage_layout import export_dir

ADMIN_PASSWORD = "admin passphrase 1"
CARER_PASSWORD = "carer passphrase 1"


def axe_violations(page, axe_source: str) -> list[dict]:
    page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(" "))}));
        }"""
    )


def assert_page_accessible(page, axe_source: str) -> None:
    assert axe_violations(page, axe_source) == []
    sizes = page.eval_on_selector_all(
        "button", "els => els.map(b => [b.textContent, b.offsetWidth, b.offsetHeight])"
    )
    for name, width, height in sizes:
        assert width >= 44 and height >= 44, f"{page.url} button {name!r} is {width}x{height}"


def type_into_focused(page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Tab")


@pytest.fixture
def accounts(live_server) -> AccountService:
    return AccountService.build(live_server.settings)


def test_first_run_to_a_carer_login_by_keyboard(
    page, live_server, accounts: AccountService, axe_source: str
) -> None:
    if accounts.has_accounts():
        pytest.skip("the module's live server already has accounts")
    secret = accounts.issue_setup_link()
    page.goto(f"/setup/{secret}")
    assert_page_accessible(page, axe_source)
    assert page.evaluate("document.activeElement.id") == "username"  # autofocus: start typing
    type_into_focused(page, "boss")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin")
    expect(page.locator("#admin-status")).to_have_text("Up to date.")
    assert_page_accessible(page, axe_source)

    page.locator("#new-username").focus()
    type_into_focused(page, "cara")
    page.keyboard.press("Tab")  # the role select keeps "carer"
    page.keyboard.type(CARER_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#admin-status")).to_have_text("Created cara.")
    page.locator("#grant-account").focus()
    type_into_focused(page, "cara")
    page.keyboard.type("demo_user")
    page.keyboard.press("Enter")
    expect(page.locator("#admin-status")).to_have_text("Granted demo_user to cara.")
    expect(page.locator("#accounts tbody")).to_contain_text("demo_user")
    expect(page.locator("#audit tbody")).to_contain_text("grant_added")

    page.get_by_role("button", name="Log out").press("Enter")
    page.wait_for_url("**/login")
    page.goto("/admin")  # needs a login: sent to /login and back afterwards
    page.wait_for_url("**/login?next=/admin")
    assert_page_accessible(page, axe_source)
    page.goto("/login?next=/auth/me")
    page.locator("#username").focus()
    type_into_focused(page, "cara")
    page.keyboard.type(CARER_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/auth/me")
    me = page.evaluate("fetch('/auth/me').then(r => r.json())")
    assert me == {"account": "cara", "role": "carer", "granted_users": ["demo_user"]}
    roles = {a.name: (a.role, a.grants) for a in accounts.state().accounts.values()}
    assert roles == {"boss": ("admin", frozenset()), "cara": ("carer", frozenset({"demo_user"}))}


def test_a_failed_login_is_announced(page, live_server, axe_source: str) -> None:
    page.goto("/login")
    page.keyboard.type("nobody")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password here")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("wrong username or password")
    assert_page_accessible(page, axe_source)


def test_an_admin_sees_the_exports_held_and_deletes_one(
    page, live_server, accounts: AccountService, axe_source: str
) -> None:
    """/admin lists the exports the server holds (here one of nothing, written for real) and deletes one
    after a confirmation: the folder and the listing lose it, the audit trail shows the deletion."""
    if "dpo" not in accounts.state().accounts:
        accounts.create_account("dpo", Role.ADMIN, ADMIN_PASSWORD)
    page.goto("/login?next=/admin")
    page.locator("#username").fill("dpo")
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/admin")  # not "**/admin": the login page's own URL matches that
    expect(page.locator("#admin-status")).to_have_text("Up to date.")
    made = page.evaluate(
        """fetch('/exports', {method: 'POST', headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify({format: 'npz'})}).then(r => r.json())"""
    )
    export_id = made["export_id"]
    page.reload()
    row = page.locator("#exports tbody tr", has_text=export_id)
    expect(row).to_contain_text("dpo")
    assert_page_accessible(page, axe_source)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete export {export_id}").press("Enter")
    expect(page.locator("#admin-status")).to_have_text(f"Deleted export {export_id}.")
    expect(page.locator("#exports tbody")).not_to_contain_text(export_id)
    expect(page.locator("#audit tbody")).to_contain_text("export_deleted")
    assert not export_dir(live_server.settings, export_id).exists()

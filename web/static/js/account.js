// Who is logged in (GET /auth/me, by the login cookie): the account bar of every demo page and the list
// of people (user_ids) granted to this account. Without a valid login the page goes to /login and back.

/** Where to log in and come back to this page afterwards. */
export function loginUrl() {
  return `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}

async function loadAccount() {
  const response = await fetch("/auth/me", { credentials: "same-origin", headers: { accept: "application/json" } });
  if (response.status === 401) {
    window.location.assign(loginUrl());
    throw new Error("not logged in: going to the login page");
  }
  if (!response.ok) {
    throw new Error(`The page could not read who is logged in (HTTP ${response.status}). Reload the page.`);
  }
  return response.json();
}

/** {account, role, granted_users} of the logged-in account, read once per page. */
export const ACCOUNT = await loadAccount();
document.getElementById("who").textContent = `${ACCOUNT.account} (${ACCOUNT.role})`;

/**
 * Fill the person picker with the account's granted users; returns false (and says why in `hint`)
 * when there is nobody to pick.
 */
export function fillPersonPicker(select, hint) {
  const people = ACCOUNT.granted_users;
  select.replaceChildren(...people.map((userId) => new Option(userId, userId)));
  select.disabled = people.length === 0;
  if (people.length === 0) {
    hint.textContent = "No person is granted to this account yet: an administrator grants them on /admin.";
    return false;
  }
  return true;
}

/** Why this account cannot start sessions or capture here (a sentence), or null when it can. */
export function captureBlocker(anyoneToPick) {
  if (ACCOUNT.role !== "carer") return `Only a carer captures; ${ACCOUNT.account} is ${ACCOUNT.role}.`;
  if (!anyoneToPick) return "No person is granted to this account yet.";
  return null;
}

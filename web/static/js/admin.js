// The admin page: accounts, grants, active logins, the exports held and the audit trail, through the
// /admin/api JSON routes, /exports and /audit.
import "./account.js"; // the account bar (who is logged in)

const status = document.getElementById("admin-status");

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent("/admin")}`);
    throw new Error("not logged in");
  }
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || `HTTP ${response.status}`);
  return data;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell ?? "";
    tr.append(td);
  }
  return tr;
}

function fill(tableId, rows) {
  document.querySelector(`#${tableId} tbody`).replaceChildren(...rows);
}

async function refresh() {
  const [accounts, sessions, exports, audit] = await Promise.all([
    call("GET", "/admin/api/accounts"),
    call("GET", "/admin/api/sessions"),
    call("GET", "/exports"),
    call("GET", "/audit"),
  ]);
  fill("accounts", accounts.accounts.map((a) =>
    row([a.name, a.role, a.disabled ? "disabled" : "active", a.grants.join(", ") || "none"])));
  // Grants only mean something to carers and researchers: offer their names to the grant form.
  document.getElementById("grantable-accounts").replaceChildren(...accounts.accounts
    .filter((a) => a.role !== "admin" && !a.disabled).map((a) => new Option(a.name, a.name)));
  fill("sessions", sessions.sessions.map((s) => {
    const end = document.createElement("button");
    end.type = "button";
    end.textContent = `End ${s.account}'s login`;
    end.addEventListener("click", () => act(() => call("DELETE", `/admin/api/sessions/${s.handle}`),
      `Ended a login of ${s.account}.`));
    return row([s.account, s.created_at, s.last_seen, s.client, end]);
  }));
  fill("exports", exports.exports.length ? exports.exports.map(exportRow) : [nothingRow("No exports are held.", 7)]);
  fill("audit", audit.records.slice(-200).reverse().map((r) =>
    row([r.timestamp, r.account, r.action, r.user_id, r.object_id, r.outcome, r.client])));
}

function exportRow(e) {
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete export ${e.export_id}`); // the visible word, then which one
  remove.addEventListener("click", () => {
    if (!window.confirm(`Delete export ${e.export_id} from this server? Copies already downloaded stay.`)) return;
    act(() => call("DELETE", `/exports/${encodeURIComponent(e.export_id)}`), `Deleted export ${e.export_id}.`);
  });
  return row([e.export_id, e.created_at, e.account, e.format, String(e.captures), e.users.join(", ") || "none", remove]);
}

function nothingRow(text, columns) {
  const tr = document.createElement("tr");
  const td = document.createElement("td");
  td.colSpan = columns;
  td.textContent = text;
  tr.append(td);
  return tr;
}

async function act(operation, done) {
  try {
    await operation();
    await refresh();
    status.textContent = done;
  } catch (error) {
    status.textContent = `Failed: ${error.message}`;
  }
}

function onSubmit(formId, operation, done) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    act(() => operation(values), done(values)).then(() => form.reset());
  });
}

onSubmit("create-account", (v) => call("POST", "/admin/api/accounts", v), (v) => `Created ${v.username}.`);
onSubmit("grant", (v) => call("POST", `/admin/api/accounts/${encodeURIComponent(v.account)}/grants`,
  { user_id: v.user_id }), (v) => `Granted ${v.user_id} to ${v.account}.`);
act(async () => {}, "Up to date.");

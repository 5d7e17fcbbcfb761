// /demo/sessions: a user's sessions and captures from the projection, each with a verify badge, a link to
// its playback (/demo/review) and the curation controls (label, discard, restore).
import { fillPersonPicker } from "./account.js";
import { ApiError, getJson } from "./api.js";
import { curationControls } from "./curation.js";
import { describeQuality } from "./quality.js";
import { StatusView } from "./status.js";

const view = new StatusView(document.getElementById("status"), document.getElementById("error"));
const container = document.getElementById("sessions");
const person = document.getElementById("person");
const anyone = fillPersonPicker(person, document.getElementById("person-hint"));

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function row(cells, header = false) {
  const tr = el("tr");
  for (const cell of cells) {
    const td = el(header ? "th" : "td");
    if (header) td.scope = "col";
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

async function badge(recordId) {
  try {
    const body = await getJson(`/records/${encodeURIComponent(recordId)}/verify`);
    if (body.ok) return el("span", "verified", "badge badge-ok");
    const span = el("span", "failed", "badge badge-fail");
    const reasons = (body.problems || []).join("; ");
    return reasons ? [span, el("span", ` ${reasons}`)] : span;
  } catch (err) {
    return [el("span", "failed", "badge badge-fail"), el("span", ` ${err.message}`)];
  }
}

async function captureTable(session) {
  const captures = session.captures || [];
  if (captures.length === 0) return el("p", "No captures in this session.");
  const table = el("table");
  table.append(el("caption", `Captures of session ${session.session_id}`));
  const head = el("thead");
  head.append(row(["Record id", "Intent", "T", "D", "Hash", "Quality", "Check", "Label and status"], true));
  const body = el("tbody");
  for (const capture of captures) {
    const { T, D, hash } = capture;
    const quality = el("ul");
    quality.append(...describeQuality(capture.quality).map((line) => el("li", line)));
    const check = el("span");
    const verdict = await badge(capture.record_id);
    check.append(...[verdict].flat());
    const id = el("div");
    const review = el("a", "Review");
    review.href = `/demo/review?record_id=${encodeURIComponent(capture.record_id)}`;
    review.className = "review-link";
    id.append(el("span", capture.record_id, "mono"), el("br"), review);
    body.append(row([id, capture.annotation_intent || "", el("span", String(T ?? ""), "nowrap"),
      el("span", String(D ?? ""), "nowrap"),
      el("span", hash || "", "mono"), quality, check, curationControls(capture, view)]));
  }
  table.append(head, body);
  return table;
}

const PAGE_SIZE = 20;
let shown = { sessions: 0, captures: 0 };

// One page of the list (the API pages it: `next` is the URL of the following page, null on the last).
async function load(userId, url) {
  view.clearError();
  if (!url) {
    container.replaceChildren();
    shown = { sessions: 0, captures: 0 };
  }
  document.getElementById("more-sessions")?.remove();
  view.say(`Loading the sessions of ${userId}…`);
  let body;
  try {
    body = await getJson(url || `/session_manager/users/${encodeURIComponent(userId)}/sessions?limit=${PAGE_SIZE}`);
  } catch (err) {
    view.error(err instanceof ApiError ? err.message : String(err));
    view.say("Could not load the sessions.");
    return;
  }
  const sessions = body.sessions || [];
  let first = null;
  for (const session of sessions) {
    const section = el("section");
    const heading = el("h2", `Session ${session.session_id}`);
    heading.tabIndex = -1;
    first = first || heading;
    section.append(heading);
    const facts = el("p", `Status ${session.status}; started ${session.start_time}` +
      (session.end_time ? `; ended ${session.end_time}` : ""));
    section.append(facts, await captureTable(session));
    container.append(section);
  }
  shown.sessions += sessions.length;
  shown.captures += sessions.reduce((n, s) => n + (s.captures || []).length, 0);
  view.say(`${shown.sessions} session(s) and ${shown.captures} capture(s) for ${userId}` +
    (body.next ? " so far." : "."));
  if (body.next) {
    const more = el("button", "More sessions");
    more.id = "more-sessions";
    more.type = "button";
    more.addEventListener("click", () => load(userId, body.next));
    container.after(more);
  }
  // The pressed "More sessions" button is gone: keyboard and screen-reader users continue at the
  // first session it brought.
  if (url && first) first.focus();
}

document.getElementById("lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  if (person.value) load(person.value);
});

document.getElementById("btn-load").disabled = !anyone;
if (!anyone) view.say("Nobody to show: no person is granted to this account yet.");

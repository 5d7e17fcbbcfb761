// /demo/session: one Start Session button; the session_id lives in memory only.
import { captureBlocker, fillPersonPicker } from "./account.js";
import { ApiError, startSession } from "./api.js";
import { StatusView } from "./status.js";

const person = document.getElementById("person");
const blocker = captureBlocker(fillPersonPicker(person, document.getElementById("person-hint")));
const view = new StatusView(document.getElementById("status"), document.getElementById("error"));
const btnStart = document.getElementById("btn-start");
const sessionField = document.getElementById("session-id");
const stateField = document.getElementById("session-state");

let sessionId = null;

function render(state) {
  stateField.textContent = state;
  sessionField.value = sessionId || "";
  btnStart.disabled = blocker !== null || state === "starting" || sessionId !== null;
  person.disabled = blocker !== null || sessionId !== null;
}

btnStart.addEventListener("click", async () => {
  view.clearError();
  render("starting");
  view.say("Starting a session…");
  try {
    const body = await startSession(person.value);
    sessionId = body.session_id;
    render("active");
    view.say(`Session started: ${sessionId}.`);
  } catch (err) {
    render("error");
    const text = err instanceof ApiError ? err.message : `Unexpected error: ${err}`;
    view.error(text);
    view.say("Starting the session failed.");
  }
});

render("idle");
if (blocker) view.say(blocker);

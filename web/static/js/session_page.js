// /demo/session: one Start Session button; the session_id lives in memory only.
import { ApiError, demoUserId, startSession } from "./api.js";
import { StatusView } from "./status.js";

const userId = demoUserId();
const view = new StatusView(document.getElementById("status"), document.getElementById("error"));
const btnStart = document.getElementById("btn-start");
const sessionField = document.getElementById("session-id");
const stateField = document.getElementById("session-state");

let sessionId = null;

function render(state) {
  stateField.textContent = state;
  sessionField.value = sessionId || "";
  btnStart.disabled = state === "starting" || sessionId !== null;
}

btnStart.addEventListener("click", async () => {
  view.clearError();
  render("starting");
  view.say("Starting a session…");
  try {
    const body = await startSession(userId);
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

// /demo/gesture: session buttons, live preview with the server's tracked skeleton drawn over it, one
// bounded capture at a time, the result and a link to its review.
import { captureBlocker, fillPersonPicker } from "./account.js";
import { endSession, startSession } from "./api.js";
import { closeCamera, explainMissingCamera, frameSize, openCamera } from "./camera.js";
import { CaptureStream, MAX_CAPTURE_MS } from "./capture_client.js";
import { ConsentPanel } from "./consent_panel.js";
import { describeQuality } from "./quality.js";
import { drawSkeleton } from "./skeleton.js";
import { StatusView, whileBusy } from "./status.js";

const $ = (id) => document.getElementById(id);
const view = new StatusView($("status"), $("error"));
const video = $("preview");
const person = $("person");
const skeleton = $("live-skeleton").getContext("2d");
const PREVIEW_PARTS = { pose: "pose", left_hand: "left hand", right_hand: "right hand" };

const state = { userId: null, sessionId: null, busy: false, capture: null, stream: null, clock: null };
// What stops this account capturing here at all (said once, at load), or null.
const blocker = captureBlocker(fillPersonPicker(person, $("person-hint")));
// The person's consent; with consent enforced, capture waits for `capture` consent (docs/privacy.md).
const consent = new ConsentPanel(view, () => render());

explainMissingCamera($("https-needed"));
for (const node of document.querySelectorAll(".max-seconds")) node.textContent = String(MAX_CAPTURE_MS / 1000);

function render() {
  const capturing = state.capture !== null;
  $("session-id").value = state.sessionId || "";
  $("btn-start").disabled = blocker !== null || state.busy || state.sessionId !== null;
  person.disabled = blocker !== null || state.sessionId !== null;
  $("btn-end").disabled = state.busy || capturing || state.sessionId === null;
  $("btn-capture").disabled = state.busy || capturing || state.sessionId === null || !consent.capturePermitted;
  $("btn-stop").disabled = !capturing || state.capture.stopped;
  $("intent").disabled = capturing;
}

function setCaptureState(text) {
  $("capture-state").textContent = text;
}

/** Draw a capture.preview over the video and say in words which parts are being tracked. */
function showPreview(preview) {
  drawSkeleton(skeleton, { pose: preview.pose, left_hand: preview.left_hand, right_hand: preview.right_hand });
  const words = Object.entries(PREVIEW_PARTS).map(([part, name]) => `${name} ${preview[part] ? "found" : "not found"}`);
  $("live-tracking").textContent = `Live tracking (frame ${preview.frame + 1}): ${words.join(", ")}.`;
}

function clearPreview() {
  skeleton.clearRect(0, 0, skeleton.canvas.width, skeleton.canvas.height);
}

function showResult(body) {
  const ref = body.raw_features_ref || {};
  $("result-hash").textContent = ref.hash || "";
  $("result-t").textContent = String(body.T);
  $("result-d").textContent = String(body.D);
  const list = $("result-quality");
  list.replaceChildren(...describeQuality(body.quality).map((line) => {
    const item = document.createElement("li");
    item.textContent = line;
    return item;
  }));
  $("result").hidden = false;
  $("result-empty").hidden = true;
  $("review-link").href = `/demo/review?record_id=${encodeURIComponent(body.record_id)}`;
  $("result-review").hidden = false;
}

function startClock(startMs) {
  const tick = () => {
    const elapsed = Math.min(Date.now() - startMs, MAX_CAPTURE_MS);
    const left = Math.max(0, Math.ceil((MAX_CAPTURE_MS - elapsed) / 1000));
    $("capture-clock").textContent = `— ${(elapsed / 1000).toFixed(1)} s elapsed, ${left} s left of ${MAX_CAPTURE_MS / 1000} s`;
  };
  tick();
  state.clock = setInterval(tick, 200);
}

function stopClock() {
  clearInterval(state.clock);
  state.clock = null;
}

$("btn-start").addEventListener("click", () => whileBusy(state, render, view, "Starting the session", async () => {
  view.say("Starting a session…");
  const body = await startSession(person.value);
  state.sessionId = body.session_id;
  state.userId = person.value;
  view.say(`Session started: ${state.sessionId}. You can capture a gesture.`);
}));

$("btn-end").addEventListener("click", () => whileBusy(state, render, view, "Ending the session", async () => {
  view.say("Ending the session…");
  await endSession(state.userId, state.sessionId);
  view.say(`Session ${state.sessionId} ended.`);
  state.sessionId = null;
  state.userId = null;
  closeCamera(video, state.stream);
  state.stream = null;
}));

$("btn-capture").addEventListener("click", async () => {
  view.clearError();
  state.busy = true;
  render();
  view.say("Opening the camera…");
  try {
    if (!state.stream) state.stream = await openCamera(video);
  } catch (err) {
    state.busy = false;
    render();
    setCaptureState("camera unavailable");
    view.failed(err, "Opening the camera");
    return;
  }
  const { width, height } = frameSize(video);
  const capture = new CaptureStream({
    userId: state.userId, sessionId: state.sessionId, video, width, height, intent: $("intent").value.trim(),
    onPreview: showPreview,
  });
  $("capture-record-id").value = capture.recordId;
  try {
    await capture.start();
  } catch (err) {
    state.busy = false;
    render();
    setCaptureState("failed");
    view.failed(err, "Opening the capture connection");
    return;
  }
  state.capture = capture;
  state.busy = false;
  render();
  setCaptureState("capturing");
  view.say(`Capturing. Press Stop Capture when the gesture is done; it stops by itself at ${MAX_CAPTURE_MS / 1000} seconds.`);
  startClock(capture.startMs);
  const autoStop = setTimeout(() => stopCapture(`The ${MAX_CAPTURE_MS / 1000} second limit was reached; capture stopped.`), MAX_CAPTURE_MS);
  try {
    const result = await capture.done;
    showResult(result);
    setCaptureState("recorded");
    view.say(`Capture recorded: ${result.T} frames, hash ${result.raw_features_ref.hash}.`);
  } catch (err) {
    setCaptureState("failed");
    view.failed(err, "The capture");
  } finally {
    clearTimeout(autoStop);
    stopClock();
    clearPreview();
    state.capture = null;
    render();
  }
});

async function stopCapture(announcement) {
  const capture = state.capture;
  if (!capture || capture.stopped) return;
  const stopping = capture.stop();
  render();
  setCaptureState("processing");
  view.say(announcement);
  await stopping;
}

$("btn-stop").addEventListener("click", () => stopCapture("Capture stopped. Waiting for the landmark features…"));

window.addEventListener("pagehide", () => closeCamera(video, state.stream));
person.addEventListener("change", () => consent.show(person.value));
render();
if (blocker) view.say(blocker);
else consent.show(person.value);

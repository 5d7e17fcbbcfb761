// /demo/try: pick a person, see their vocabulary, perform a gesture, see (and hear) the word or "not sure",
// confirm or correct it with one tap (POST /records/{id}/label makes the capture one more example).
import { captureBlocker, fillPersonPicker } from "./account.js";
import { endSession, getJson, requestJson, startSession } from "./api.js";
import { closeCamera, explainMissingCamera, frameSize, openCamera } from "./camera.js";
import { CaptureStream, MAX_CAPTURE_MS } from "./capture_client.js";
import { StatusView, whileBusy } from "./status.js";

const $ = (id) => document.getElementById(id);
const view = new StatusView($("status"), $("error"));
const video = $("preview");
const person = $("person");

const state = {
  sessionId: null, busy: false, capture: null, stream: null, clock: null, vocabulary: null, answered: null,
};
const blocker = captureBlocker(fillPersonPicker(person, $("person-hint")));

explainMissingCamera($("https-needed"));

function ready() {
  const vocabulary = state.vocabulary;
  return vocabulary !== null && vocabulary.trainable && vocabulary.labels.length > 0;
}

function render() {
  const capturing = state.capture !== null;
  person.disabled = blocker !== null || state.sessionId !== null || capturing;
  $("btn-perform").disabled = blocker !== null || state.busy || capturing || !ready();
  $("btn-done").disabled = !capturing || state.capture.stopped;
  $("btn-end").disabled = state.busy || capturing || state.sessionId === null;
}

function item(text) {
  const node = document.createElement("li");
  node.textContent = text;
  return node;
}

// The parts a gesture is read from, in reading order, with short names for the vocabulary list.
const PARTS = [["pose", "body"], ["left_hand", "left hand"], ["right_hand", "right hand"], ["face", "face"]];

/** "body 100 %, left hand 80 %, …": how often each part was seen in the label's examples. */
function seenIn(quality) {
  return PARTS.filter(([part]) => typeof quality[part] === "number")
    .map(([part, name]) => `${name} ${Math.round(quality[part] * 100)} %`).join(", ");
}

function showVocabulary(body) {
  state.vocabulary = body;
  const list = $("vocabulary");
  list.replaceChildren(
    ...body.labels.map((entry) => item(
      `${entry.label}: ${entry.examples} example${entry.examples === 1 ? "" : "s"} ` +
      `(seen: ${seenIn(entry.quality)})`)),
    // takes the recognizer leaves out, so the carer knows why a label has fewer examples
    ...(body.unusable ?? []).map((take) => item(`${take.label}: one take not used (${take.reason})`)),
  );
  const empty = $("vocabulary-empty");
  empty.hidden = body.trainable && body.labels.length > 0;
  if (!body.trainable) {
    empty.textContent = `${body.user_id} cannot be recognized: ${body.message}. ` +
      "Record their train consent first.";
  } else if (body.labels.length === 0) {
    empty.textContent = `${body.user_id} has no labelled gesture yet: capture some with an intent label ` +
      "on /demo/gesture (five takes of each gesture is a good start).";
  }
}

async function loadVocabulary() {
  if (blocker !== null) return;
  view.clearError();
  try {
    showVocabulary(await getJson(`/users/${encodeURIComponent(person.value)}/vocabulary`));
    view.say(ready() ? `Vocabulary of ${person.value} loaded. Press Perform a gesture.` : "Nothing to recognize yet.");
  } catch (err) {
    state.vocabulary = null;
    view.failed(err, "Loading the vocabulary");
  } finally {
    render();
  }
}

function speak(word) {
  if (!$("speak").checked || !("speechSynthesis" in window)) return;
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(new SpeechSynthesisUtterance(word));
}

function showAnswer(recordId, recognized) {
  state.answered = { recordId, label: recognized.label };
  const word = $("word");
  word.textContent = recognized.label ?? "not sure";
  word.classList.toggle("not-sure", recognized.label === null);
  $("scores").replaceChildren(...recognized.scores.map((s) => item(`${s.label}: closeness ${s.score.toFixed(2)}`)));
  if (recognized.label !== null) speak(recognized.label);
  const labels = state.vocabulary.labels.map((entry) => entry.label);
  const buttons = [];
  if (recognized.label !== null) buttons.push(feedbackButton(recognized.label, `Yes, it was “${recognized.label}”`));
  for (const label of labels.filter((l) => l !== recognized.label)) {
    const button = feedbackButton(label, `It was “${label}”`);
    button.classList.add("secondary");
    buttons.push(button);
  }
  $("feedback-question").textContent = recognized.label === null
    ? "Not sure. Which word was it?" : `Was it “${recognized.label}”?`;
  $("feedback-buttons").replaceChildren(...buttons);
  $("feedback").hidden = false;
}

/** The capture was recorded but no recognition could be made (capture.recognized with error_code). */
function showNotRecognized() {
  state.answered = null;
  const word = $("word");
  word.textContent = "not recognized";
  word.classList.add("not-sure");
  $("scores").replaceChildren();
  $("feedback").hidden = true;
}

function feedbackButton(label, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text;
  button.addEventListener("click", () => labelCapture(label));
  return button;
}

async function labelCapture(label) {
  const answered = state.answered;
  if (!answered) return;
  view.clearError();
  for (const button of $("feedback-buttons").children) button.disabled = true;
  try {
    await requestJson("POST", `/records/${answered.recordId}/label`, { label });
    const how = label === answered.label ? "Confirmed" : "Corrected";
    $("feedback").hidden = true;
    state.answered = null;
    view.say(`${how}: this capture is now an example of “${label}”.`);
    showVocabulary(await getJson(`/users/${encodeURIComponent(person.value)}/vocabulary`));
  } catch (err) {
    for (const button of $("feedback-buttons").children) button.disabled = false;
    view.failed(err, "Saving the label");
  } finally {
    render();
  }
}

function startClock(startMs) {
  const tick = () => {
    const elapsed = Math.min(Date.now() - startMs, MAX_CAPTURE_MS);
    $("capture-clock").textContent = `— ${(elapsed / 1000).toFixed(1)} s`;
  };
  tick();
  state.clock = setInterval(tick, 200);
}

function stopClock() {
  clearInterval(state.clock);
  state.clock = null;
  $("capture-clock").textContent = "";
}

async function perform() {
  view.clearError();
  state.busy = true;
  $("feedback").hidden = true;
  render();
  try {
    if (state.sessionId === null) state.sessionId = (await startSession(person.value)).session_id;
    view.say("Opening the camera…");
    if (!state.stream) state.stream = await openCamera(video);
  } catch (err) {
    state.busy = false;
    render();
    view.failed(err, "Getting ready");
    return;
  }
  const { width, height } = frameSize(video);
  const capture = new CaptureStream({
    userId: person.value, sessionId: state.sessionId, video, width, height, intent: "", purpose: "recognize",
  });
  try {
    await capture.start();
  } catch (err) {
    state.busy = false;
    render();
    view.failed(err, "Opening the capture connection");
    return;
  }
  state.capture = capture;
  state.busy = false;
  render();
  $("capture-state").textContent = "watching";
  view.say("Watching. Press Done when the gesture is over.");
  startClock(capture.startMs);
  const autoStop = setTimeout(() => done(), MAX_CAPTURE_MS);
  try {
    const result = await capture.done;
    const recognized = result.recognized;
    if (recognized.error_code) {
      $("capture-state").textContent = "not recognized";
      showNotRecognized();
      view.say(`The gesture was recorded but could not be recognized: ${recognized.message}`);
    } else {
      $("capture-state").textContent = "recognized";
      showAnswer(result.record_id, recognized);
      view.say(recognized.label === null ? "Not sure what that was." : `Recognized: ${recognized.label}.`);
    }
  } catch (err) {
    $("capture-state").textContent = "failed";
    view.failed(err, "Recognizing the gesture");
  } finally {
    clearTimeout(autoStop);
    stopClock();
    state.capture = null;
    render();
  }
}

async function done() {
  const capture = state.capture;
  if (!capture || capture.stopped) return;
  const stopping = capture.stop();
  render();
  $("capture-state").textContent = "recognizing";
  view.say("Recognizing…");
  await stopping;
}

$("btn-perform").addEventListener("click", perform);
$("btn-done").addEventListener("click", done);
$("btn-end").addEventListener("click", () => whileBusy(state, render, view, "Ending the session", async () => {
  await endSession(person.value, state.sessionId);
  view.say(`Session ${state.sessionId} ended.`);
  state.sessionId = null;
  closeCamera(video, state.stream);
  state.stream = null;
}));
person.addEventListener("change", loadVocabulary);
window.addEventListener("pagehide", () => closeCamera(video, state.stream));
render();
if (blocker) view.say(blocker);
else loadVocabulary();

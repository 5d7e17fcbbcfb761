// /demo/review?record_id=...: play one capture back from its landmarks (pose, hands, face contours at the
// recorded frame times), a per-frame strip of where each part was found, and the curation controls.
import { ApiError, getJson } from "./api.js";
import { curationControls } from "./curation.js";
import { PARTS, PART_NAMES, loadLandmarks } from "./landmarks.js";
import { describeQuality } from "./quality.js";
import { STYLES, drawSkeleton } from "./skeleton.js";
import { StatusView } from "./status.js";

const $ = (id) => document.getElementById(id);
const view = new StatusView($("status"), $("error"));
const player = $("player").getContext("2d");
const strip = $("strip").getContext("2d");
const scrubber = $("scrubber");
const playButton = $("btn-play");
const shown = new Set(PART_NAMES);
const STRIP_LABEL_PX = 96;
// The strip's colours on white: the skeleton's, but a darker grey for the face (its light grey is for the
// dark playback canvas).
const STRIP_COLOURS = { ...Object.fromEntries(PART_NAMES.map((part) => [part, STYLES[part].colour])), face: "#6b6b6b" };
const state = { landmarks: null, index: 0, playing: false, wallStart: 0, offsetStart: 0 };

function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

function drawStrip() {
  const { landmarks, index } = state;
  const { width, height } = strip.canvas;
  const rowHeight = height / PART_NAMES.length;
  const column = (width - STRIP_LABEL_PX) / landmarks.frames;
  strip.fillStyle = "#ffffff";
  strip.fillRect(0, 0, width, height);
  strip.font = "13px system-ui, sans-serif";
  strip.textBaseline = "middle";
  PART_NAMES.forEach((part, row) => {
    const top = row * rowHeight;
    strip.fillStyle = "#1a1a1a";
    strip.fillText(PARTS[part].label, 4, top + rowHeight / 2);
    strip.fillStyle = "#ececec";
    strip.fillRect(STRIP_LABEL_PX, top + 2, width - STRIP_LABEL_PX, rowHeight - 4);
    strip.fillStyle = STRIP_COLOURS[part];
    for (let i = 0; i < landmarks.frames; i += 1) {
      if (!landmarks.points(i, part)) continue;
      // Whole pixels, so neighbouring found frames join without a seam.
      const left = Math.floor(STRIP_LABEL_PX + i * column);
      const right = Math.floor(STRIP_LABEL_PX + (i + 1) * column);
      strip.fillRect(left, top + 2, Math.max(right - left, 1), rowHeight - 4);
    }
  });
  strip.fillStyle = "#000000";
  strip.fillRect(STRIP_LABEL_PX + index * column + column / 2 - 1, 0, 2, height);
}

function show(index) {
  const { landmarks } = state;
  state.index = index;
  const frame = {};
  const found = [];
  const missing = [];
  for (const part of PART_NAMES) {
    const points = landmarks.points(index, part);
    (points ? found : missing).push(PARTS[part].label.toLowerCase());
    frame[part] = shown.has(part) ? points : null;
  }
  drawSkeleton(player, frame);
  scrubber.value = String(index);
  const where = `frame ${index + 1} of ${landmarks.frames}, ${seconds(landmarks.offsetMs(index))}`;
  $("frame-info").textContent = where;
  scrubber.setAttribute("aria-valuetext", where);
  $("frame-parts").textContent = `In this frame: found ${found.join(", ") || "nothing"}` +
    (missing.length ? `; not found: ${missing.join(", ")}.` : ".");
  drawStrip();
}

function tick(now) {
  if (!state.playing) return;
  const { landmarks } = state;
  const ms = state.offsetStart + (now - state.wallStart);
  const index = landmarks.frameAt(ms);
  if (index !== state.index) show(index);
  if (ms >= landmarks.offsetMs(landmarks.frames - 1)) {
    pause();
    return;
  }
  requestAnimationFrame(tick);
}

function play() {
  const { landmarks } = state;
  if (state.index >= landmarks.frames - 1) show(0);
  state.playing = true;
  state.wallStart = performance.now();
  state.offsetStart = landmarks.offsetMs(state.index);
  playButton.textContent = "Pause";
  requestAnimationFrame(tick);
}

function pause() {
  state.playing = false;
  playButton.textContent = "Play";
}

function step(delta) {
  pause();
  show(Math.min(state.landmarks.frames - 1, Math.max(0, state.index + delta)));
}

function describeCapture(landmarks, quality) {
  const counts = landmarks.foundCounts();
  const duration = seconds(landmarks.offsetMs(landmarks.frames - 1));
  $("summary").textContent = `${landmarks.frames} frames over ${duration}. ` +
    (quality ? `Quality: ${describeQuality(quality).join("; ")}.` : "");
  $("counts").replaceChildren(...PART_NAMES.map((part) => {
    const item = document.createElement("li");
    item.textContent = `${PARTS[part].label} found in ${counts[part]} of ${landmarks.frames} frames`;
    return item;
  }));
}

function startPlayer(landmarks, quality) {
  state.landmarks = landmarks;
  scrubber.max = String(landmarks.frames - 1);
  for (const control of [scrubber, playButton, $("btn-prev"), $("btn-next")]) control.disabled = false;
  describeCapture(landmarks, quality);
  show(0);
}

async function load(recordId) {
  const record = await getJson(`/records/${encodeURIComponent(recordId)}`);
  $("record-id").textContent = recordId;
  $("person").textContent = record.user_id;
  $("session").textContent = record.session_id;
  const session = await getJson(`/session_manager/sessions/${encodeURIComponent(record.session_id)}`);
  const capture = (session.captures || []).find((c) => c.record_id === recordId) ||
    { record_id: recordId, label: record.annotation_intent, status: "active" };
  $("curation").replaceChildren(curationControls(capture, view));
  if (capture.status === "erased") {
    $("summary").textContent = "This capture was erased: its landmarks no longer exist.";
    view.say("Capture erased; nothing to play.");
    return;
  }
  startPlayer(await loadLandmarks(recordId), record.quality || capture.quality);
  view.say(`Capture loaded: ${state.landmarks.frames} frames. Press Play, or move the Frame slider.`);
}

playButton.addEventListener("click", () => (state.playing ? pause() : play()));
$("btn-prev").addEventListener("click", () => step(-1));
$("btn-next").addEventListener("click", () => step(1));
scrubber.addEventListener("input", () => {
  pause();
  show(Number(scrubber.value));
});
for (const part of PART_NAMES) {
  $(`show-${part}`).addEventListener("change", (event) => {
    if (event.target.checked) shown.add(part);
    else shown.delete(part);
    if (state.landmarks) show(state.index);
  });
}

const recordId = new URLSearchParams(window.location.search).get("record_id");
if (!recordId) {
  view.error("No capture named: open this page from /demo/sessions or right after a capture.");
  view.say("Nothing to show.");
} else {
  load(recordId).catch((err) => {
    view.error(err instanceof ApiError ? err.message : String(err));
    view.say("Could not load the capture.");
  });
}

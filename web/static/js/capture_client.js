// One bounded capture streamed over WS /camera_feed_worker/capture (upstream A3CP message shapes):
// capture.open, then per frame capture.frame_meta + one binary JPEG message, then capture.close.
// The login cookie authenticates the upgrade (same origin, so the browser's Origin is ours).
// The server answers capture.result (success) or capture.abort {error_code}; there are no retries.
// With `onPreview`, capture.open asks for the live skeleton ("preview": true) and each capture.preview
// message (the newest tracked frame's pose and hands, at most ~5 a second) goes to it.
// With `purpose: "recognize"` the capture is also recognized: `done` then resolves with the result
// carrying the server's capture.recognized answer as `recognized` (its `error_code` and `message` set, label
// null, when the capture was recorded but no recognition could be made).
import { ACCOUNT } from "./account.js";
import { LIMITS, SCHEMA_VERSION, nowIso, wordsFor } from "./api.js";
import { FPS } from "./camera.js";

export const MAX_CAPTURE_MS = LIMITS.max_capture_seconds * 1000;
const JPEG_QUALITY = 0.8;
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024; // skip a frame rather than queue without bound

/** A readable sentence for a capture.abort error_code (the words come from the server's contract). */
export function describeAbort(code, message) {
  return `The capture was stopped by the server: ${wordsFor(code)} (code ${code})` + (message ? `: ${message}.` : ".");
}

function wsUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

export class CaptureStream {
  /**
   * @param {{userId: string, sessionId: string, video: HTMLVideoElement, width: number, height: number,
   *          intent: string, onPreview?: (preview: object) => void, purpose?: "recognize"}} options
   */
  constructor(options) {
    Object.assign(this, options);
    this.recordId = crypto.randomUUID();
    this.captureId = crypto.randomUUID();
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.width;
    this.canvas.height = this.height;
    this.seq = 0;
    this.lastFrameIso = null;
    this.timer = null;
    this.inFlight = Promise.resolve();
    this.busy = false;
    this.stopped = false;
    this.finished = false;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  message(event, fields) {
    return JSON.stringify({
      schema_version: SCHEMA_VERSION,
      record_id: event === "capture.open" ? this.recordId : crypto.randomUUID(),
      user_id: this.userId,
      session_id: this.sessionId,
      timestamp: nowIso(),
      modality: "image",
      source: "browser",
      performer_id: ACCOUNT.account,
      event,
      capture_id: this.captureId,
      ...fields,
    });
  }

  /** Open the socket and send capture.open; resolves once frames are flowing. */
  async start() {
    this.ws = new WebSocket(wsUrl("/camera_feed_worker/capture"));
    this.ws.binaryType = "arraybuffer";
    this.ws.addEventListener("message", (ev) => this.onMessage(ev));
    this.ws.addEventListener("close", (ev) => this.onClose(ev));
    await new Promise((resolve, reject) => {
      this.ws.addEventListener("open", resolve, { once: true });
      this.ws.addEventListener("error", () => reject(new Error(
        "Could not open the capture connection to the server. Nothing was retried.")), { once: true });
    });
    this.startMs = Date.now();
    const open = {
      timestamp_start: new Date(this.startMs).toISOString(),
      fps_target: FPS,
      width: this.width,
      height: this.height,
      encoding: "jpeg",
    };
    if (this.intent) open.annotation = { intent: this.intent };
    if (this.onPreview) open.preview = true;
    if (this.purpose) open.purpose = this.purpose;
    this.ws.send(this.message("capture.open", open));
    this.timer = setInterval(() => this.tick(), 1000 / FPS);
  }

  tick() {
    if (this.stopped || this.busy || this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() >= this.startMs + MAX_CAPTURE_MS) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) return;
    this.busy = true;
    this.inFlight = this.sendFrame().finally(() => { this.busy = false; });
  }

  async sendFrame() {
    const context = this.canvas.getContext("2d");
    context.drawImage(this.video, 0, 0, this.width, this.height);
    const at = new Date().toISOString();
    const blob = await new Promise((resolve) => this.canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
    if (!blob || this.stopped || this.ws.readyState !== WebSocket.OPEN) return;
    const bytes = await blob.arrayBuffer();
    if (this.stopped || this.ws.readyState !== WebSocket.OPEN) return;
    // Non-decreasing frame times, as the protocol requires.
    const stamp = this.lastFrameIso && at < this.lastFrameIso ? this.lastFrameIso : at;
    this.lastFrameIso = stamp;
    this.seq += 1;
    this.ws.send(this.message("capture.frame_meta", { seq: this.seq, timestamp_frame: stamp, byte_length: bytes.byteLength }));
    this.ws.send(bytes);
  }

  /** Stop sending frames and send capture.close; the outcome arrives through `done`. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.inFlight;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const endMs = Math.min(Date.now(), this.startMs + MAX_CAPTURE_MS);
    let end = new Date(endMs).toISOString();
    if (this.lastFrameIso && end < this.lastFrameIso) end = this.lastFrameIso;
    this.ws.send(this.message("capture.close", { timestamp_end: end }));
  }

  onMessage(ev) {
    if (typeof ev.data !== "string") return;
    let body;
    try {
      body = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (body.event === "capture.preview" && this.onPreview) this.onPreview(body);
    else if (body.event === "capture.result" && this.purpose === "recognize") this.result = body;
    else if (body.event === "capture.result") this.finish(null, body);
    else if (body.event === "capture.recognized") this.finish(null, { ...this.result, recognized: body });
    else if (body.event === "capture.abort") this.finish(describeAbort(body.error_code, body.message));
  }

  onClose(ev) {
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.finished) {
      this.finish(`The capture connection closed without a result (close code ${ev.code}` +
        (ev.reason ? `: ${ev.reason}` : "") + "). Nothing was retried.");
    }
  }

  finish(errorText, result) {
    if (this.finished) return;
    this.finished = true;
    if (errorText) this.rejectDone(new Error(errorText));
    else this.resolveDone(result);
  }
}

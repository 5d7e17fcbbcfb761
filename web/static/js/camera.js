// The camera: getUserMedia within the server's capture limits (frame size, fps), errors in words.
import { LIMITS } from "./api.js";

export const MAX_WIDTH = LIMITS.max_frame_side;
export const MAX_HEIGHT = Math.floor(LIMITS.max_frame_pixels / LIMITS.max_frame_side);
export const FPS = LIMITS.max_fps;

export class CameraError extends Error {}

function describe(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Camera access was denied. Allow the camera for this page and try again. Nothing was sent.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "No usable camera was found. Connect a camera and try again. Nothing was sent.";
  }
  if (name === "NotReadableError") {
    return "The camera is in use by another program or failed to start. Nothing was sent.";
  }
  return `The camera could not be started (${name || err}). Nothing was sent.`;
}

/** Open the camera and show it in `video`; resolves with the stream or throws CameraError. */
export async function openCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new CameraError("This browser offers no camera access here (a secure origin is needed). Nothing was sent.");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        width: { ideal: MAX_WIDTH, max: MAX_WIDTH },
        height: { ideal: MAX_HEIGHT, max: MAX_HEIGHT },
        frameRate: { ideal: FPS, max: FPS },
      },
    });
  } catch (err) {
    throw new CameraError(describe(err));
  }
  video.srcObject = stream;
  await video.play();
  if (!video.videoWidth) {
    await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
  }
  return stream;
}

/** Frame size that fits the limits while keeping the camera's aspect ratio. */
export function frameSize(video) {
  const scale = Math.min(1, MAX_WIDTH / video.videoWidth, MAX_HEIGHT / video.videoHeight);
  return { width: Math.floor(video.videoWidth * scale), height: Math.floor(video.videoHeight * scale) };
}

export function closeCamera(video, stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  video.srcObject = null;
}

/** Browsers offer the camera only to a secure context: https://, or http://localhost on this machine. A
 * tablet opening http://<this machine's name> gets no camera API at all, so say so in `note` before anyone
 * tries. */
export function explainMissingCamera(note) {
  if (window.isSecureContext) return;
  note.textContent = "The camera needs HTTPS: this page was opened over plain http:// under a name other " +
    "than localhost, so the browser offers no camera here. Open it with https:// (README: " +
    "\"Use it from a tablet\").";
  note.hidden = false;
}

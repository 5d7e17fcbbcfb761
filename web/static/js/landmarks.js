// One capture's landmark features from GET /records/{id}/landmarks (docs/privacy.md, "Playback"):
// a u32 little-endian header length N, N bytes of JSON header {shape, dtype, timestamps_ms}, then T x 1662
// float32 little-endian values. The browser asks for gzip and decodes it itself.
import { ApiError, describeErrorBody } from "./api.js";

/** Layout holistic_landmarks_v1 (a3cp/landmarks/layout.py): where each part's landmarks start in a row. */
export const PARTS = {
  pose: { start: 0, landmarks: 33, stride: 4, label: "Pose" },
  face: { start: 132, landmarks: 468, stride: 3, label: "Face" },
  left_hand: { start: 1536, landmarks: 21, stride: 3, label: "Left hand" },
  right_hand: { start: 1599, landmarks: 21, stride: 3, label: "Right hand" },
};
export const PART_NAMES = Object.keys(PARTS);

export class Landmarks {
  constructor(header, values) {
    [this.frames, this.dim] = header.shape;
    this.timestamps = header.timestamps_ms;
    this.values = values;
  }

  /** Milliseconds from the first frame to frame `index`. */
  offsetMs(index) {
    return this.timestamps[index] - this.timestamps[0];
  }

  /** The frame shown at `ms` after the first: the last one recorded at or before it. */
  frameAt(ms) {
    let index = 0;
    while (index + 1 < this.frames && this.offsetMs(index + 1) <= ms) index += 1;
    return index;
  }

  /** [[x, y], ...] of `part` in frame `index`, or null where it was not found (NaN). */
  points(index, part) {
    const { start, landmarks, stride } = PARTS[part];
    const base = index * this.dim + start;
    if (Number.isNaN(this.values[base])) return null;
    const out = [];
    for (let i = 0; i < landmarks; i += 1) out.push([this.values[base + i * stride], this.values[base + i * stride + 1]]);
    return out;
  }

  /** Per part, in how many frames it was found. */
  foundCounts() {
    const counts = {};
    for (const part of PART_NAMES) {
      counts[part] = 0;
      for (let i = 0; i < this.frames; i += 1) if (!Number.isNaN(this.values[i * this.dim + PARTS[part].start])) counts[part] += 1;
    }
    return counts;
  }
}

/** Parse the documented body (endianness read explicitly, whatever the machine's). */
export function parseLandmarks(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const [frames, dim] = header.shape;
  const values = new Float32Array(frames * dim);
  const offset = 4 + headerLength;
  for (let i = 0; i < values.length; i += 1) values[i] = view.getFloat32(offset + i * 4, true);
  return new Landmarks(header, values);
}

/** Fetch and parse one capture's landmarks; ApiError in words otherwise (410: erased). */
export async function loadLandmarks(recordId) {
  let response;
  try {
    response = await fetch(`/records/${encodeURIComponent(recordId)}/landmarks`, { credentials: "same-origin" });
  } catch {
    throw new ApiError("Could not reach the server. Check that it is running; nothing was retried.");
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.status === 410) throw new ApiError("This capture was erased: its landmarks no longer exist.");
    throw new ApiError(describeErrorBody(response.status, body));
  }
  return parseLandmarks(await response.arrayBuffer());
}

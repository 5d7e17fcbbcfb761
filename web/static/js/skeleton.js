// Drawing landmarks as a skeleton on a canvas: MediaPipe's connection lists (POSE_CONNECTIONS,
// HAND_CONNECTIONS, FACEMESH_CONTOURS), shipped as /static/data/connections.json and tested against
// mediapipe (a3cp/landmarks/connections.py). Used by the review playback and the live capture preview.

const response = await fetch("/static/data/connections.json", { credentials: "same-origin" });
if (!response.ok) throw new Error(`The page could not load the skeleton's connection lists (HTTP ${response.status}).`);
const LISTS = await response.json();

/** How each part is drawn: its connection list, colour, and whether its points get dots. */
export const STYLES = {
  pose: { edges: LISTS.pose, colour: "#1f77ff", dots: true, width: 3 },
  face: { edges: LISTS.face_contours, colour: "#d0d0d0", dots: false, width: 1.5 },
  left_hand: { edges: LISTS.hand, colour: "#ff9f1c", dots: true, width: 2 },
  right_hand: { edges: LISTS.hand, colour: "#2ec27e", dots: true, width: 2 },
};

/** Draw one part's points ([[x, y], ...] normalised to the image) on `context`; null draws nothing. */
export function drawPart(context, part, points) {
  if (!points) return;
  const { width, height } = context.canvas;
  const style = STYLES[part];
  context.strokeStyle = style.colour;
  context.fillStyle = style.colour;
  context.lineWidth = style.width;
  context.beginPath();
  for (const [a, b] of style.edges) {
    context.moveTo(points[a][0] * width, points[a][1] * height);
    context.lineTo(points[b][0] * width, points[b][1] * height);
  }
  context.stroke();
  if (!style.dots) return;
  for (const [x, y] of points) {
    context.beginPath();
    context.arc(x * width, y * height, style.width + 1, 0, 2 * Math.PI);
    context.fill();
  }
}

/** Clear `context` and draw each part of `frame` ({part: points | null}). */
export function drawSkeleton(context, frame) {
  context.clearRect(0, 0, context.canvas.width, context.canvas.height);
  for (const [part, points] of Object.entries(frame)) drawPart(context, part, points);
}

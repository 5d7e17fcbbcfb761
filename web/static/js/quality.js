// Quality per body part in words ("hands seen in 80 % of frames").

const PART_NAMES = {
  pose: "body (pose)",
  face: "face",
  left_hand: "left hand",
  right_hand: "right hand",
};

/** One line per part of a quality object mapping part -> fraction of frames (0..1). */
export function describeQuality(quality) {
  if (!quality || typeof quality !== "object") return ["no quality reported"];
  return Object.entries(quality)
    .filter(([, value]) => typeof value === "number")
    .map(([part, value]) => `${PART_NAMES[part] || part.replaceAll("_", " ")} seen in ${Math.round(value * 100)} % of frames`);
}

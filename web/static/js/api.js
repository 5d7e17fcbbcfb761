// Talking to the A3CP API from the demo pages: envelopes, JSON requests, errors in words.
// Requests carry the login cookie (same origin); one request per click; nothing here ever retries.
import { ACCOUNT, loginUrl } from "./account.js";

/** The server's contract (GET /contract.json): limits, schema version, every error code with its words.
 * Read once per page; the pages keep no copy of it. */
export const CONTRACT = await loadContract();
export const SCHEMA_VERSION = CONTRACT.schema_version;
export const LIMITS = CONTRACT.limits;

async function loadContract() {
  const response = await fetch("/contract.json", { credentials: "same-origin", headers: { accept: "application/json" } });
  if (!response.ok) {
    throw new Error(`The page could not read the server's contract (HTTP ${response.status}). Reload the page.`);
  }
  return response.json();
}

/** The words for a server error code (from the contract), or a plain sentence for an unknown one. */
export function wordsFor(code) {
  const entry = CONTRACT.errors[code];
  return entry ? entry.words : "the server refused the request";
}

/** A wire timestamp: UTC ISO 8601 with milliseconds and Z. */
export function nowIso() {
  return new Date().toISOString();
}

/** The envelope fields every request about `userId` carries; the performer is the logged-in account. */
export function envelope(userId) {
  return {
    schema_version: SCHEMA_VERSION,
    record_id: crypto.randomUUID(),
    user_id: userId,
    timestamp: nowIso(),
    performer_id: ACCOUNT.account,
  };
}

/** Turn an A3CP error body ({error, message, fields}) into one sentence. */
export function describeErrorBody(status, body) {
  if (body && typeof body === "object" && typeof body.message === "string") {
    const fields = Array.isArray(body.fields) ? body.fields : [];
    const detail = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
    return `The server refused the request (HTTP ${status}, ${body.error}): ${body.message}` +
      (detail ? ` (${detail})` : "") + ".";
  }
  return `The server answered with HTTP ${status} and no usable explanation.`;
}

export class ApiError extends Error {}

/** Send one JSON request; resolve with the parsed body, or throw ApiError with a readable message. */
export async function requestJson(method, path, payload) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: payload === undefined ? {} : { "Content-Type": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  } catch {
    throw new ApiError("Could not reach the server. Check that it is running; nothing was retried.");
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.status === 401 && body && body.error === "unauthenticated") {
    throw new ApiError(`Your login has ended (HTTP 401). Log in again at ${loginUrl()}; nothing was retried.`);
  }
  if (!response.ok) {
    throw new ApiError(describeErrorBody(response.status, body));
  }
  if (body === null) {
    throw new ApiError(`The server answered HTTP ${response.status} without a JSON body.`);
  }
  return body;
}

/** GET from the read API (answers only what this account was granted). */
export function getJson(path) {
  return requestJson("GET", path);
}

/** sessions.start for the person `userId`, in upstream's demo client's shape. */
export function startSession(userId) {
  return requestJson("POST", "/session_manager/sessions.start", envelope(userId));
}

/** sessions.end with the session_id and an end_time, as upstream's demo client sends it. */
export function endSession(userId, sessionId) {
  return requestJson("POST", "/session_manager/sessions.end", {
    ...envelope(userId),
    session_id: sessionId,
    end_time: nowIso(),
  });
}

"""The one table of every error code the server sends: its HTTP status, WebSocket close code and words.

Domain errors and faults name a code only; this table decides how each is answered on each transport,
and gives the sentence the browser shows (served in /contract.json, so the UI has no copy of its own).
`http_status` is None for codes only the WebSocket protocol sends, `ws_close` None for HTTP-only codes.
`ws_code` is set where upstream A3CP's WebSocket protocol names the breach differently (its locked
`capture.abort` taxonomy): the abort carries that name, the HTTP answer this code.
"""

from __future__ import annotations

from dataclasses import dataclass

from a3cp.config import MAX_CAPTURE_SECONDS, MAX_FPS, MIN_CAPTURE_SECONDS

CLOSE_NORMAL = 1000  # the capture was refused or stopped by a rule: the protocol itself went fine
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the server is overloaded, the client may retry


@dataclass(frozen=True)
class ErrorKind:
    http_status: int | None
    ws_close: int | None
    words: str
    ws_code: str | None = None


_REFUSED = (400, CLOSE_NORMAL)  # a capture rule: 400 over HTTP, abort + normal close over WebSocket

ERRORS: dict[str, ErrorKind] = {
    # sessions and records (a3cp.domain.errors)
    "session_not_found": ErrorKind(404, CLOSE_NORMAL, "the session is unknown", ws_code="session_invalid"),
    "session_user_mismatch": ErrorKind(
        400, CLOSE_NORMAL, "the session belongs to someone else", ws_code="session_invalid"
    ),
    "session_invalid": ErrorKind(None, CLOSE_NORMAL, "the session is unknown or belongs to someone else"),
    "session_closed": ErrorKind(409, CLOSE_NORMAL, "the session was ended"),
    "record_id_conflict": ErrorKind(409, CLOSE_NORMAL, "this record id was already used"),
    "record_not_found": ErrorKind(404, None, "no such record"),
    "user_not_found": ErrorKind(404, None, "no such user"),
    "invalid_request": ErrorKind(400, None, "the request contradicts the session's state"),
    # consent and erasure (a3cp.domain.consent, docs/privacy.md)
    "consent_required": ErrorKind(403, CLOSE_NORMAL, "the person has not given the consent this needs"),
    "capture_erased": ErrorKind(410, None, "the capture was erased"),
    "consent_text_mismatch": ErrorKind(400, None, "the consent text named is not the one published"),
    # dataset export (a3cp.export, docs/export.md)
    "export_verify_failed": ErrorKind(
        409, None, "some selected captures fail verification: nothing was exported"
    ),
    "export_pseudonym_collision": ErrorKind(
        409, None, "two ids of this export share a pseudonym: nothing was exported; change the filters"
    ),
    # the capture policy (a3cp.domain.capture_policy) and the frame decoder (a3cp.capture.frames)
    "fps_invalid": ErrorKind(*_REFUSED, "the frame rate must be above 0"),
    "limit_fps_exceeded": ErrorKind(*_REFUSED, f"the frame rate was above {MAX_FPS:g} frames per second"),
    "limit_resolution_exceeded": ErrorKind(*_REFUSED, "the frames were larger than 640×480"),
    "limit_duration_exceeded": ErrorKind(
        *_REFUSED, f"the capture was longer than {MAX_CAPTURE_SECONDS:g} seconds"
    ),
    "limit_duration_too_short": ErrorKind(
        *_REFUSED, f"the capture was shorter than {MIN_CAPTURE_SECONDS:g} seconds"
    ),
    "limit_frame_count_exceeded": ErrorKind(*_REFUSED, "too many frames were sent"),
    "limit_frame_bytes_exceeded": ErrorKind(*_REFUSED, "a frame was too large"),
    "limit_total_bytes_exceeded": ErrorKind(*_REFUSED, "the capture sent too many bytes"),
    "frame_count_mismatch": ErrorKind(*_REFUSED, "the number of frames differs from the declared count"),
    "frame_timestamps_mismatch": ErrorKind(*_REFUSED, "there must be one frame timestamp per frame"),
    "timestamp_out_of_order": ErrorKind(
        400, CLOSE_POLICY_VIOLATION, "frame times went backwards or left the capture's window"
    ),
    "seq_out_of_order": ErrorKind(400, CLOSE_POLICY_VIOLATION, "frames arrived out of order"),
    "timestamp_end_missing": ErrorKind(*_REFUSED, "the capture's end time is missing"),
    "no_frames": ErrorKind(*_REFUSED, "no frames were captured"),
    "frame_decode_failed": ErrorKind(*_REFUSED, "a frame could not be decoded as a JPEG or PNG image"),
    "frame_size_mismatch": ErrorKind(*_REFUSED, "a frame's size differs from the declared width and height"),
    # infrastructure faults (a3cp.faults) and the extractor's relayed answers (a3cp.capture.remote)
    "projection_unavailable": ErrorKind(
        503, CLOSE_NORMAL, "the server's read model is unavailable; retry later"
    ),
    "extractor_unavailable": ErrorKind(
        503, CLOSE_NORMAL, "the landmark extractor is unavailable; retry later"
    ),
    "extractor_error": ErrorKind(502, CLOSE_NORMAL, "the landmark extractor refused the capture"),
    # capacity and server-side limits (a3cp.capture.admission, docs/limits.md)
    "capacity_exhausted": ErrorKind(
        503, CLOSE_TRY_AGAIN_LATER, "another capture is being processed, try again in a moment"
    ),
    "extraction_behind": ErrorKind(
        503, CLOSE_TRY_AGAIN_LATER, "the server could not keep up with the frames; try again in a moment"
    ),
    "capture_time_exceeded": ErrorKind(
        None, CLOSE_NORMAL, f"the capture stayed open longer than {MAX_CAPTURE_SECONDS:g} seconds"
    ),
    # request framing (web/)
    "validation_error": ErrorKind(400, None, "a field is missing or invalid"),
    "invalid_json": ErrorKind(400, None, "the request body is not valid JSON"),
    "invalid_multipart": ErrorKind(400, None, "the upload is not a well-formed multipart body"),
    "unsupported_media_type": ErrorKind(415, None, "the upload must be multipart/form-data"),
    "payload_too_large": ErrorKind(413, None, "the upload is too large"),
    "request_timeout": ErrorKind(408, None, "the upload was too slow or stalled; try again"),
    "request_head_too_large": ErrorKind(431, None, "the request's headers are too large"),
    "too_many_connections": ErrorKind(503, None, "too many open connections from this device"),
    "http_error": ErrorKind(404, None, "the server could not serve this address"),
    "insufficient_storage": ErrorKind(507, CLOSE_INTERNAL_ERROR, "the server's disk is full; retry later"),
    "storage_error": ErrorKind(500, CLOSE_INTERNAL_ERROR, "the server could not store the request"),
    "internal_error": ErrorKind(500, CLOSE_INTERNAL_ERROR, "the server failed while handling the request"),
    # the WebSocket capture protocol's framing (web/routes/capture_ws.py)
    "protocol_violation": ErrorKind(None, CLOSE_POLICY_VIOLATION, "the messages broke the capture protocol"),
    "schema_violation": ErrorKind(None, CLOSE_POLICY_VIOLATION, "a capture message had invalid fields"),
    "malformed_json": ErrorKind(None, CLOSE_UNSUPPORTED_DATA, "a capture message was not valid JSON"),
    "byte_length_mismatch": ErrorKind(
        None, CLOSE_POLICY_VIOLATION, "a frame's bytes differed from its announced length"
    ),
    "meta_to_bytes_timeout": ErrorKind(
        None, CLOSE_POLICY_VIOLATION, "a frame's bytes did not follow its description in time"
    ),
    "idle_timeout": ErrorKind(None, CLOSE_POLICY_VIOLATION, "no message arrived for too long"),
    # the recognizer (a3cp.recognition.errors)
    "invalid_features": ErrorKind(400, None, "the landmark features do not have the recorded layout"),
    "invalid_vocabulary": ErrorKind(400, None, "the recognizer needs at least one labelled example"),
    # the recognition service (a3cp.domain.recognition)
    "train_consent_required": ErrorKind(
        403, CLOSE_NORMAL, "the person has not consented to a personal recognizer (consent scope train)"
    ),
    "no_vocabulary": ErrorKind(
        409, CLOSE_NORMAL, "the person has no labelled gesture yet: label some captures first"
    ),
    # accounts, logins and access (a3cp.accounts.errors, web/auth.py)
    "unauthenticated": ErrorKind(401, CLOSE_POLICY_VIOLATION, "log in (or send an API token) first"),
    "forbidden": ErrorKind(403, CLOSE_POLICY_VIOLATION, "this account may not do that"),
    "not_found": ErrorKind(404, None, "no such resource"),
    "performer_mismatch": ErrorKind(403, CLOSE_POLICY_VIOLATION, "performer_id must be the account's own"),
    "account_error": ErrorKind(400, None, "the account operation was refused"),
    "account_exists": ErrorKind(409, None, "an account with this name exists already"),
    "account_not_found": ErrorKind(404, None, "no such account"),
    "token_not_found": ErrorKind(404, None, "no such API token"),
    "login_session_not_found": ErrorKind(404, None, "no such login session"),
    "weak_password": ErrorKind(400, None, "the password is too short (at least 12 characters)"),
    "invalid_credentials": ErrorKind(401, None, "wrong name or password"),
    "setup_unavailable": ErrorKind(404, None, "the setup link is unknown, used or expired"),
    "too_many_attempts": ErrorKind(429, None, "too many failed logins; wait and try again"),
}

_UNKNOWN = ErrorKind(400, CLOSE_NORMAL, "the server refused the request")


def kind_of(code: str) -> ErrorKind:
    """The table row of `code` (a relayed code the table lacks answers as a plain refusal)."""
    return ERRORS.get(code, _UNKNOWN)


def http_status(code: str) -> int:
    status = kind_of(code).http_status
    return status if status is not None else 400


def ws_abort(code: str) -> tuple[str, int]:
    """The `capture.abort` error_code and the close code for `code` on the WebSocket."""
    kind = kind_of(code)
    return kind.ws_code or code, kind.ws_close if kind.ws_close is not None else CLOSE_POLICY_VIOLATION

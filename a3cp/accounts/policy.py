"""The one place that decides what an account may do: roles, actions, principals and `authorize`.

Domain terms only: a refusal is `NOT_FOUND` (reads of a user the account has no grant for, so a missing
user and a hidden one look the same) or `FORBIDDEN` (writes without a grant, or an action the role never
has); the web layer maps those to its answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # manages accounts, grants, tokens; reads the audit trail; no capture
    CARER = "carer"  # runs sessions and captures for granted users; reads their data
    RESEARCHER = "researcher"  # reads and exports granted users' data; never captures


class Action(StrEnum):
    """What a request does. Data actions name a user; management actions do not."""

    READ = "read"  # a session, a user's list, a record, a verify, a landmark fetch
    EXPORT = "export"
    CAPTURE = "capture"  # start/end a session, upload or stream a capture
    MANAGE_ACCOUNTS = "manage_accounts"  # accounts, grants, tokens, login sessions
    READ_AUDIT = "read_audit"


DATA_ACTIONS = frozenset({Action.READ, Action.EXPORT, Action.CAPTURE})
WRITE_ACTIONS = frozenset({Action.CAPTURE})
# Which role may ever take which action (a grant is still needed for data actions).
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset({Action.MANAGE_ACCOUNTS, Action.READ_AUDIT}),
    Role.CARER: frozenset({Action.READ, Action.CAPTURE}),
    Role.RESEARCHER: frozenset({Action.READ, Action.EXPORT}),
}


class Decision(StrEnum):
    ALLOWED = "allowed"
    NOT_FOUND = "not_found"  # answer exactly as if the user or object did not exist
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Principal:
    """An authenticated account as a request sees it: name, role and the users granted to it."""

    account: str
    role: Role
    granted_users: frozenset[str]


def authorize(principal: Principal, action: Action, user_id: str | None = None) -> Decision:
    """May `principal` take `action` (on `user_id`'s data, for data actions)?

    A data action on a user without a grant, or one the role never has, is NOT_FOUND for reads (no
    existence leak) and FORBIDDEN for writes; a management action the role lacks is FORBIDDEN.
    """
    permitted = action in ROLE_ACTIONS[principal.role]
    if action not in DATA_ACTIONS:
        return Decision.ALLOWED if permitted else Decision.FORBIDDEN
    if user_id is None:
        raise ValueError(f"{action} needs the user_id whose data it touches")
    if permitted and user_id in principal.granted_users:
        return Decision.ALLOWED
    return Decision.FORBIDDEN if action in WRITE_ACTIONS else Decision.NOT_FOUND


def authorize_export(principal: Principal, user_id: str) -> Decision:
    """May `principal` export `user_id`'s captures? A researcher for granted users (NOT_FOUND otherwise,
    as for reads); an admin for every user (an export is how a deployment hands data on); never a carer
    (FORBIDDEN: the role never exports)."""
    if principal.role is Role.ADMIN:
        return Decision.ALLOWED
    if Action.EXPORT not in ROLE_ACTIONS[principal.role]:
        return Decision.FORBIDDEN
    return authorize(principal, Action.EXPORT, user_id)

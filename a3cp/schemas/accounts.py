"""Wire models of accounts: login and setup input, the admin views, and the audit record."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from a3cp.accounts.policy import Role
from a3cp.config import SCHEMA_VERSION
from a3cp.schemas.base import PerformerId, RecordId, SafeId, StrictModel, Timestamp, new_record_id

Password = str  # length rules are the credentials store's (its error names the field)


class LoginInput(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    password: Password = Field(min_length=1, max_length=1024)


class SetupInput(LoginInput):
    """The first admin's name and password, sent through the one-time setup link."""


class LoginOutput(BaseModel):
    account: SafeId
    role: Role
    granted_users: list[SafeId]


class LogoutOutput(BaseModel):
    logged_out: bool = True


class AccountCreateInput(StrictModel):
    username: SafeId
    role: Role
    password: Password = Field(min_length=1, max_length=1024)


class GrantInput(StrictModel):
    user_id: SafeId


class AccountView(BaseModel):
    name: SafeId
    role: Role
    disabled: bool
    created_at: Timestamp
    grants: list[SafeId]


class AccountsList(BaseModel):
    accounts: list[AccountView]


class LoginSessionView(BaseModel):
    handle: str
    account: SafeId
    created_at: Timestamp
    last_seen: Timestamp
    client: str


class LoginSessionsList(BaseModel):
    sessions: list[LoginSessionView]


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LOGIN_SESSION_ENDED = "login_session_ended"  # by an admin
    SETUP = "setup"  # the first admin created through the setup link
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_DISABLED = "account_disabled"
    ROLE_CHANGED = "role_changed"
    PASSWORD_CHANGED = "password_changed"
    GRANT_ADDED = "grant_added"
    GRANT_REVOKED = "grant_revoked"
    TOKEN_ISSUED = "token_issued"
    TOKEN_REVOKED = "token_revoked"
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    CAPTURE = "capture"
    READ_SESSION = "read_session"
    READ_USER_SESSIONS = "read_user_sessions"
    READ_RECORD = "read_record"
    VERIFY = "verify"
    READ_LANDMARKS = "read_landmarks"
    EXPORT = "export"
    EXPORT_DOWNLOADED = "export_downloaded"
    EXPORTS_LISTED = "exports_listed"
    EXPORT_DELETED = "export_deleted"
    READ_AUDIT = "read_audit"
    CONSENT_GRANTED = "consent_granted"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    READ_CONSENT = "read_consent"
    ERASURE = "erasure"
    CAPTURE_LABELED = "capture_labeled"
    CAPTURE_DISCARDED = "capture_discarded"
    CAPTURE_RESTORED = "capture_restored"
    READ_VOCABULARY = "read_vocabulary"
    RECOGNIZE = "recognize"


class Outcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    FAILED = "failed"  # wrong credentials, invalid input
    THROTTLED = "throttled"


class AuditRecord(BaseModel):
    """One line of the audit trail: who (account, role, client) did what (action, outcome) to whose data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: str = SCHEMA_VERSION
    record_id: RecordId = Field(default_factory=new_record_id)
    timestamp: Timestamp
    source: str = "audit"
    performer_id: PerformerId
    event: str = "audit"
    account: SafeId | None = None  # the proven account, or for a failed login the (safe) name tried
    role: Role | None = None
    action: AuditAction
    user_id: SafeId | None = None
    object_id: str | None = Field(default=None, max_length=128)
    # What an action's one line cannot say otherwise (an export: its format, filters, captures, users)
    details: dict[str, Any] | None = None
    outcome: Outcome
    client: str = Field(max_length=128)


class AuditList(BaseModel):
    records: list[AuditRecord]

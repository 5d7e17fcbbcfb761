"""`AccountService`: account management, login, tokens and the setup link over the three stores.

Every change is an access event (the account state), plus a credentials change where a secret is
involved, plus an audit record. Callers name the acting account (`actor`, "system" from the shell) and the
client address; nothing here knows about HTTP.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher

from a3cp.accounts.audit import AuditTrail
from a3cp.accounts.credentials import Clock, CredentialStore, LoginSession, check_password_strength
from a3cp.accounts.directory import AccessDirectory
from a3cp.accounts.errors import (
    AccountError,
    AccountExists,
    AccountNotFound,
    InvalidCredentials,
    LoginSessionNotFound,
    SetupUnavailable,
    Throttled,
    TokenNotFound,
)
from a3cp.accounts.events import (
    AccessEvent,
    AccountCreated,
    AccountDisabled,
    GrantAdded,
    GrantRevoked,
    PasswordChanged,
    RoleChanged,
    TokenIssued,
    TokenRevoked,
)
from a3cp.accounts.policy import Principal, Role
from a3cp.accounts.settings import LoginLimits
from a3cp.accounts.state import AccessState, AccountState, TokenState
from a3cp.config import Settings
from a3cp.schemas import SYSTEM_PERFORMER, AuditAction, Outcome, format_timestamp
from a3cp.storage_layout import UnsafeIdError, access_log_path, credentials_path, require_safe_id

RESERVED_NAMES = frozenset({SYSTEM_PERFORMER, "anonymous"})
LOCAL_CLIENT = "local"  # the client address of commands run from the shell
_TOKEN_RE = re.compile(r"a3cp_([0-9a-f]{16})_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Login:
    """A successful login: the cookie value (a secret, shown once) and who it proves."""

    session_id: str
    session: LoginSession
    principal: Principal


def _safe_name(value: str, field: str) -> str:
    try:
        return require_safe_id(value, field)
    except UnsafeIdError as exc:
        raise AccountError(str(exc), field) from None


class AccountService:
    def __init__(self, directory: AccessDirectory, credentials: CredentialStore, audit: AuditTrail) -> None:
        self.directory = directory
        self.credentials = credentials
        self.audit = audit
        self._clock: Clock = credentials.clock

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock = time.time,
        hasher: PasswordHasher | None = None,
        limits: LoginLimits | None = None,
    ) -> AccountService:
        directory = AccessDirectory(access_log_path(settings, create_dir=True))
        store = CredentialStore(
            credentials_path(settings), limits or LoginLimits.from_env(), clock=clock, hasher=hasher
        )
        return cls(directory, store, AuditTrail(settings, clock=clock))

    # Reading the state

    def state(self) -> AccessState:
        return self.directory.current()

    def has_accounts(self) -> bool:
        return bool(self.state().accounts)

    def _existing(self, state: AccessState, name: str) -> AccountState:
        found = state.account(name)
        if found is None:
            raise AccountNotFound(f"no account named {name!r}", "account")
        return found

    def _change(self, event: AccessEvent) -> AccessEvent:
        """Append `event` about an existing account (AccountNotFound otherwise)."""

        def decide(state: AccessState) -> AccessEvent:
            self._existing(state, event.account)
            return event

        return self.directory.record(decide)

    def _audit_change(
        self,
        action: AuditAction,
        actor: str,
        client: str,
        *,
        object_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        actor_state = self.state().account(actor)
        role = actor_state.role if actor_state is not None else None
        self.audit.record(
            action, Outcome.OK, client=client, account=actor, role=role, user_id=user_id, object_id=object_id
        )

    # Management (from the shell, actor "system"; from the admin API, the admin's name)

    def create_account(
        self,
        name: str,
        role: Role,
        password: str,
        *,
        actor: str = SYSTEM_PERFORMER,
        client: str = LOCAL_CLIENT,
    ) -> AccountState:
        name = _safe_name(name, "username")
        if name in RESERVED_NAMES:
            raise AccountError(f"{name!r} is reserved", "username")
        check_password_strength(password)

        def decide(state: AccessState) -> AccessEvent:
            if state.account(name) is not None:
                raise AccountExists(f"an account named {name!r} exists", "username")
            return AccountCreated(performer_id=actor, account=name, role=role)

        # The hash first: an account event without a password would be an account nobody can use.
        self.credentials.set_password(name, password)
        self.directory.record(decide)
        self._audit_change(AuditAction.ACCOUNT_CREATED, actor, client, object_id=name)
        return self._existing(self.state(), name)

    def change_role(
        self, name: str, role: Role, *, actor: str = SYSTEM_PERFORMER, client: str = LOCAL_CLIENT
    ) -> None:
        self._change(RoleChanged(performer_id=actor, account=name, role=role))
        self._audit_change(AuditAction.ROLE_CHANGED, actor, client, object_id=name)

    def change_password(
        self, name: str, password: str, *, actor: str = SYSTEM_PERFORMER, client: str = LOCAL_CLIENT
    ) -> None:
        """New password hash; every login session of the account ends."""
        check_password_strength(password)
        self._existing(self.state(), name)
        self.credentials.set_password(name, password)
        self._change(PasswordChanged(performer_id=actor, account=name))
        self._audit_change(AuditAction.PASSWORD_CHANGED, actor, client, object_id=name)

    def disable(self, name: str, *, actor: str = SYSTEM_PERFORMER, client: str = LOCAL_CLIENT) -> None:
        """The account can no longer log in or use its tokens; its login sessions end now."""
        self._change(AccountDisabled(performer_id=actor, account=name))
        self.credentials.end_sessions_of(name)
        self._audit_change(AuditAction.ACCOUNT_DISABLED, actor, client, object_id=name)

    def grant(
        self, name: str, user_id: str, *, actor: str = SYSTEM_PERFORMER, client: str = LOCAL_CLIENT
    ) -> None:
        user_id = _safe_name(user_id, "user_id")
        self._change(GrantAdded(performer_id=actor, account=name, user_id=user_id))
        self._audit_change(AuditAction.GRANT_ADDED, actor, client, user_id=user_id, object_id=name)

    def revoke(
        self, name: str, user_id: str, *, actor: str = SYSTEM_PERFORMER, client: str = LOCAL_CLIENT
    ) -> None:
        user_id = _safe_name(user_id, "user_id")
        self._change(GrantRevoked(performer_id=actor, account=name, user_id=user_id))
        self._audit_change(AuditAction.GRANT_REVOKED, actor, client, user_id=user_id, object_id=name)

    # API tokens

    def issue_token(
        self,
        name: str,
        expires_days: float | None = None,
        *,
        actor: str = SYSTEM_PERFORMER,
        client: str = LOCAL_CLIENT,
    ) -> tuple[str, TokenState]:
        """A new API token for `name`: (the token itself, shown once and stored only hashed; its state)."""
        if expires_days is not None and expires_days <= 0:
            raise AccountError("expires must be a positive number of days", "expires")
        account = self._existing(self.state(), name)
        if account.disabled:
            raise AccountError(f"account {name!r} is disabled", "account")
        token_id = secrets.token_hex(8)
        token = f"a3cp_{token_id}_{secrets.token_urlsafe(32)}"
        expires_at = self._clock() + expires_days * 86400 if expires_days is not None else None
        expiry = format_timestamp(datetime.fromtimestamp(expires_at, UTC)) if expires_at is not None else None
        self.credentials.store_token(token_id, name, token, expires_at)
        self._change(TokenIssued(performer_id=actor, account=name, token_id=token_id, expires_at=expiry))
        self._audit_change(AuditAction.TOKEN_ISSUED, actor, client, object_id=token_id)
        return token, self.state().tokens[token_id]

    def revoke_token(
        self, token_id: str, *, actor: str = SYSTEM_PERFORMER, client: str = LOCAL_CLIENT
    ) -> None:
        known = self.state().tokens.get(token_id)
        if known is None or known.revoked:
            raise TokenNotFound(f"no active token with id {token_id!r}", "token_id")
        self.credentials.drop_token(token_id)
        self._change(TokenRevoked(performer_id=actor, account=known.account, token_id=token_id))
        self._audit_change(AuditAction.TOKEN_REVOKED, actor, client, object_id=token_id)

    def principal_for_token(self, token: str) -> Principal | None:
        """Who a bearer token proves, None when it is malformed, unknown, expired, revoked or disabled."""
        if _TOKEN_RE.fullmatch(token) is None:
            return None
        stored = self.credentials.resolve_token(token)
        if stored is None:
            return None
        state = self.state()
        known = state.tokens.get(stored.token_id)
        account = state.active_account(stored.account)
        if known is None or known.revoked or account is None:
            return None
        return account.principal()

    # Browser logins

    def login(self, name: str, password: str, client: str) -> Login:
        """Check the password (throttled per account and per address); every attempt is audited."""
        safe = name if _is_safe(name) else None
        name = name[:64]  # the throttling key; an over-long name is no account anyway
        try:
            self.credentials.check_throttle(name, client)
        except Throttled:
            self.audit.record(
                AuditAction.LOGIN_FAILED, Outcome.THROTTLED, client=client, account=safe, proven=False
            )
            raise
        account = self.state().active_account(safe) if safe is not None else None
        # Verify even for an unknown name (against a decoy hash): the answer time does not tell names apart.
        valid = self.credentials.verify_password(safe or "", password) and account is not None
        if not valid or account is None:
            self.credentials.record_failure(name, client)
            self.audit.record(
                AuditAction.LOGIN_FAILED, Outcome.FAILED, client=client, account=safe, proven=False
            )
            raise InvalidCredentials("wrong username or password", "password")
        self.credentials.clear_failures(account.name)
        session_id, session = self.credentials.open_session(account.name, client)
        self.audit.record(
            AuditAction.LOGIN,
            Outcome.OK,
            client=client,
            account=account.name,
            role=account.role,
            object_id=session.handle,
        )
        return Login(session_id, session, account.principal())

    def principal_for_session(self, session_id: str) -> tuple[Principal, LoginSession] | None:
        session = self.credentials.resolve_session(session_id)
        if session is None:
            return None
        account = self.state().active_account(session.account)
        if account is None:
            self.credentials.close_session(session_id)
            return None
        return account.principal(), session

    def logout(self, session_id: str, client: str) -> None:
        session = self.credentials.close_session(session_id)
        if session is None:
            raise LoginSessionNotFound("not logged in")
        account = self.state().account(session.account)
        self.audit.record(
            AuditAction.LOGOUT,
            Outcome.OK,
            client=client,
            account=session.account,
            role=account.role if account else None,
            object_id=session.handle,
        )

    def end_login_session(self, handle: str, *, actor: str, client: str) -> None:
        """An admin ends someone's login session (by its public handle)."""
        if self.credentials.end_session_by_handle(handle) is None:
            raise LoginSessionNotFound(f"no active login session {handle!r}", "handle")
        self._audit_change(AuditAction.LOGIN_SESSION_ENDED, actor, client, object_id=handle)

    # First run

    def issue_setup_link(self) -> str | None:
        """A one-time secret for creating the first admin in the browser; None once an account exists."""
        return None if self.has_accounts() else self.credentials.issue_setup_link()

    def setup_link_valid(self, secret: str) -> bool:
        return not self.has_accounts() and self.credentials.setup_link_valid(secret)

    def complete_setup(self, secret: str, name: str, password: str, client: str) -> AccountState:
        """Create the first admin through the setup link, which is then used up."""
        if not self.setup_link_valid(secret):
            raise SetupUnavailable("this setup link is unknown, used or expired, or an account exists")
        check_password_strength(password)
        name = _safe_name(name, "username")
        self.credentials.consume_setup_link(secret)
        created = self.create_account(name, Role.ADMIN, password, actor=SYSTEM_PERFORMER, client=client)
        self.audit.record(AuditAction.SETUP, Outcome.OK, client=client, account=name, role=Role.ADMIN)
        return created


def _is_safe(value: str) -> bool:
    try:
        require_safe_id(value, "username")
    except UnsafeIdError:
        return False
    return True

"""The fold of access events into the current accounts, grants and tokens (pure; no I/O).

`fold(events)` is what `a3cp rebuild` amounts to for accounts: the state is always the access log
replayed. Events that no longer apply (a grant for an account that does not exist) are skipped, so the
fold is total over any log the recorder wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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


@dataclass(frozen=True)
class TokenState:
    token_id: str
    account: str
    issued_at: str
    expires_at: str | None
    revoked: bool = False


@dataclass(frozen=True)
class AccountState:
    name: str
    role: Role
    created_at: str
    disabled: bool = False
    password_changed_at: str | None = None
    grants: frozenset[str] = frozenset()

    def principal(self) -> Principal:
        return Principal(account=self.name, role=self.role, granted_users=self.grants)


@dataclass(frozen=True)
class AccessState:
    accounts: dict[str, AccountState] = field(default_factory=dict)
    tokens: dict[str, TokenState] = field(default_factory=dict)
    applied: int = 0  # events folded in
    skipped: int = 0  # events that no longer applied

    def account(self, name: str) -> AccountState | None:
        return self.accounts.get(name)

    def active_account(self, name: str) -> AccountState | None:
        found = self.accounts.get(name)
        return found if found is not None and not found.disabled else None


def _apply_to_account(account: AccountState, event: AccessEvent) -> AccountState | None:
    """The account after `event`, or None when the event does not apply to it."""
    match event:
        case RoleChanged(role=role):
            return replace(account, role=role)
        case AccountDisabled():
            return replace(account, disabled=True)
        case PasswordChanged(timestamp=moment):
            return replace(account, password_changed_at=moment)
        case GrantAdded(user_id=user_id):
            return replace(account, grants=account.grants | {user_id})
        case GrantRevoked(user_id=user_id):
            return replace(account, grants=account.grants - {user_id})
    return None


def apply(state: AccessState, event: AccessEvent) -> AccessState:
    """`state` with one more event folded in."""
    accounts, tokens = state.accounts, state.tokens
    current = accounts.get(event.account)
    skipped = replace(state, skipped=state.skipped + 1)
    if isinstance(event, AccountCreated):
        if current is not None:
            return skipped
        accounts = {**accounts, event.account: AccountState(event.account, event.role, event.timestamp)}
    elif current is None:
        return skipped
    elif isinstance(event, TokenIssued):
        token = TokenState(event.token_id, event.account, event.timestamp, event.expires_at)
        tokens = {**tokens, event.token_id: token}
    elif isinstance(event, TokenRevoked):
        known = tokens.get(event.token_id)
        if known is None or known.account != event.account:
            return skipped
        tokens = {**tokens, event.token_id: replace(known, revoked=True)}
    else:
        updated = _apply_to_account(current, event)
        if updated is None:
            return skipped
        accounts = {**accounts, event.account: updated}
    return AccessState(accounts, tokens, state.applied + 1, state.skipped)


def fold(events: Iterable[AccessEvent], state: AccessState | None = None) -> AccessState:
    """Fold `events` into `state` (default: nothing yet)."""
    result = state or AccessState()
    for event in events:
        result = apply(result, event)
    return result

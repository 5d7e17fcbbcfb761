"""Typed access events: what the access log records about accounts, grants and tokens.

Each event carries the project's envelope (schema_version, record_id, timestamp, source, performer_id =
the acting account or "system") and names its kind in `event`. Secrets never appear: a password change
records only that it happened, a token only its public id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from a3cp.accounts.policy import Role
from a3cp.domain.events import StreamEvent
from a3cp.schemas import SafeId, Timestamp

ACCESS_SOURCE = "accounts"
TokenId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", description="A token's public id (not its secret)")]


class _AccessEvent(StreamEvent):
    model_config = ConfigDict(extra="forbid")

    source: str = ACCESS_SOURCE
    account: SafeId


class AccountCreated(_AccessEvent):
    event: Literal["account_created"] = "account_created"
    role: Role


class RoleChanged(_AccessEvent):
    event: Literal["role_changed"] = "role_changed"
    role: Role


class AccountDisabled(_AccessEvent):
    event: Literal["account_disabled"] = "account_disabled"


class PasswordChanged(_AccessEvent):
    event: Literal["password_changed"] = "password_changed"


class GrantAdded(_AccessEvent):
    event: Literal["grant_added"] = "grant_added"
    user_id: SafeId


class GrantRevoked(_AccessEvent):
    event: Literal["grant_revoked"] = "grant_revoked"
    user_id: SafeId


class TokenIssued(_AccessEvent):
    event: Literal["token_issued"] = "token_issued"
    token_id: TokenId
    expires_at: Timestamp | None = None


class TokenRevoked(_AccessEvent):
    event: Literal["token_revoked"] = "token_revoked"
    token_id: TokenId


AccessEvent = Annotated[
    AccountCreated
    | RoleChanged
    | AccountDisabled
    | PasswordChanged
    | GrantAdded
    | GrantRevoked
    | TokenIssued
    | TokenRevoked,
    Field(discriminator="event"),
]
_ADAPTER: TypeAdapter[AccessEvent] = TypeAdapter(AccessEvent)


def parse_access_event(record: dict[str, Any]) -> AccessEvent:
    """Validate one log line's object into its typed event (pydantic.ValidationError when it is not one)."""
    return _ADAPTER.validate_python(record)

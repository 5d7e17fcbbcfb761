"""The pure core: who may do what (`authorize`) and the fold of access events into accounts and grants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from a3cp.accounts.events import (
    AccountCreated,
    AccountDisabled,
    GrantAdded,
    GrantRevoked,
    RoleChanged,
    TokenIssued,
    TokenRevoked,
    parse_access_event,
)
from a3cp.accounts.policy import DATA_ACTIONS, Action, Decision, Principal, Role, authorize
from a3cp.accounts.state import fold

ALLOWED, NOT_FOUND, FORBIDDEN = Decision.ALLOWED, Decision.NOT_FOUND, Decision.FORBIDDEN

# (role, action, granted?) -> decision: the whole table of the rules.
TABLE = [
    (Role.CARER, Action.READ, True, ALLOWED),
    (Role.CARER, Action.READ, False, NOT_FOUND),
    (Role.CARER, Action.CAPTURE, True, ALLOWED),
    (Role.CARER, Action.CAPTURE, False, FORBIDDEN),
    (Role.CARER, Action.EXPORT, True, NOT_FOUND),
    (Role.CARER, Action.MANAGE_ACCOUNTS, True, FORBIDDEN),
    (Role.CARER, Action.READ_AUDIT, True, FORBIDDEN),
    (Role.RESEARCHER, Action.READ, True, ALLOWED),
    (Role.RESEARCHER, Action.READ, False, NOT_FOUND),
    (Role.RESEARCHER, Action.EXPORT, True, ALLOWED),
    (Role.RESEARCHER, Action.EXPORT, False, NOT_FOUND),
    (Role.RESEARCHER, Action.CAPTURE, True, FORBIDDEN),  # researchers never capture
    (Role.RESEARCHER, Action.CAPTURE, False, FORBIDDEN),
    (Role.RESEARCHER, Action.MANAGE_ACCOUNTS, True, FORBIDDEN),
    (Role.ADMIN, Action.MANAGE_ACCOUNTS, False, ALLOWED),
    (Role.ADMIN, Action.READ_AUDIT, False, ALLOWED),
    (Role.ADMIN, Action.CAPTURE, True, FORBIDDEN),  # no capture by default
    (Role.ADMIN, Action.READ, True, NOT_FOUND),
    (Role.ADMIN, Action.READ, False, NOT_FOUND),
]


@pytest.mark.parametrize(("role", "action", "granted", "expected"), TABLE)
def test_authorize_table(role: Role, action: Action, granted: bool, expected: Decision) -> None:
    principal = Principal("someone", role, frozenset({"u1"} if granted else {"other"}))
    assert authorize(principal, action, "u1") is expected


@given(
    role=st.sampled_from(Role),
    action=st.sampled_from(sorted(DATA_ACTIONS)),
    grants=st.frozensets(st.sampled_from(["u1", "u2", "u3"])),
    user=st.sampled_from(["u1", "u2", "u3"]),
)
def test_no_grant_means_nothing_of_that_user(
    role: Role, action: Action, grants: frozenset[str], user: str
) -> None:
    decision = authorize(Principal("a", role, grants), action, user)
    if user not in grants:
        assert decision is (FORBIDDEN if action is Action.CAPTURE else NOT_FOUND)
    if decision is ALLOWED:
        assert user in grants and role is not Role.ADMIN


def test_data_actions_need_a_user() -> None:
    with pytest.raises(ValueError):
        authorize(Principal("a", Role.CARER, frozenset()), Action.READ)


def test_fold_builds_accounts_grants_and_tokens() -> None:
    events = [
        AccountCreated(performer_id="system", account="cara", role=Role.CARER),
        GrantAdded(performer_id="system", account="cara", user_id="u1"),
        GrantAdded(performer_id="system", account="cara", user_id="u2"),
        GrantRevoked(performer_id="system", account="cara", user_id="u1"),
        RoleChanged(performer_id="system", account="cara", role=Role.RESEARCHER),
        TokenIssued(performer_id="system", account="cara", token_id="0123456789abcdef"),
        TokenRevoked(performer_id="system", account="cara", token_id="0123456789abcdef"),
        AccountCreated(performer_id="system", account="dan", role=Role.CARER),
        AccountDisabled(performer_id="system", account="dan"),
    ]
    state = fold(events)
    cara = state.accounts["cara"]
    assert (cara.role, cara.grants, cara.disabled) == (Role.RESEARCHER, frozenset({"u2"}), False)
    assert state.tokens["0123456789abcdef"].revoked
    assert state.active_account("dan") is None and state.account("dan") is not None
    assert (state.applied, state.skipped) == (9, 0)


def test_fold_skips_events_that_no_longer_apply() -> None:
    events = [
        GrantAdded(performer_id="system", account="ghost", user_id="u1"),
        AccountCreated(performer_id="system", account="cara", role=Role.CARER),
        AccountCreated(performer_id="system", account="cara", role=Role.ADMIN),  # duplicate
        TokenRevoked(performer_id="system", account="cara", token_id="0123456789abcdef"),  # unknown token
    ]
    state = fold(events)
    assert state.accounts["cara"].role is Role.CARER
    assert (state.applied, state.skipped) == (1, 3)


def test_events_round_trip_through_their_log_record() -> None:
    event = GrantAdded(performer_id="boss", account="cara", user_id="u1")
    record = event.to_record()
    assert {"schema_version", "record_id", "timestamp", "source", "performer_id", "event", "user_id"} <= set(
        record
    )
    assert record["event"] == "grant_added" and record["performer_id"] == "boss"
    assert parse_access_event(record) == event

"""The `a3cp accounts`, `a3cp tokens` and `a3cp audit` commands, and what `a3cp serve` adds: `--tls` and the
first-run setup link.

Commands act as "system" from the shell (the access log and the audit trail say so). A new token is printed
once, alone on the last line of stdout; passwords are read from stdin (`--password-stdin`) or a prompt,
never from the command line, where `ps` and the shell history would keep them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from a3cp.accounts.errors import AccountError
from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout

TLS_README = "README.md, section 'Use it from a tablet'"


def _service() -> AccountService:
    settings = Settings.from_env()
    StorageLayout(settings).ensure_roots()
    return AccountService.build(settings)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ", "password")
    return first


def _create(args: argparse.Namespace) -> int:
    account = _service().create_account(args.name, Role(args.role), _read_password(args))
    print(f"created {account.role} account {account.name}")
    return 0


def _password(args: argparse.Namespace) -> int:
    _service().change_password(args.name, _read_password(args))
    print(f"changed the password of {args.name}; its logins ended")
    return 0


def _grant(args: argparse.Namespace) -> int:
    _service().grant(args.name, args.user_id)
    print(f"granted {args.user_id} to {args.name}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    _service().revoke(args.name, args.user_id)
    print(f"revoked {args.user_id} from {args.name}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    _service().disable(args.name)
    print(f"disabled {args.name}; its logins ended and its tokens stopped working")
    return 0


def _list_accounts(args: argparse.Namespace) -> int:
    accounts = sorted(_service().state().accounts.values(), key=lambda a: a.name)
    for a in accounts:
        grants = ",".join(sorted(a.grants)) or "-"
        print(f"{a.name}\t{a.role}\t{'disabled' if a.disabled else 'active'}\tgrants: {grants}")
    print(f"{len(accounts)} accounts")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    token, state = _service().issue_token(args.account, args.expires)
    print(f"token {state.token_id} for {state.account}, expires {state.expires_at or 'never'}")
    print("shown once; send it as 'Authorization: Bearer <token>':")
    print(token)
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    _service().revoke_token(args.token_id)
    print(f"revoked token {args.token_id}")
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    tokens = sorted(_service().state().tokens.values(), key=lambda t: t.issued_at)
    for t in tokens:
        state = "revoked" if t.revoked else "active"
        print(f"{t.token_id}\t{t.account}\t{state}\tissued {t.issued_at}\texpires {t.expires_at or 'never'}")
    print(f"{len(tokens)} tokens")
    return 0


def _since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _audit(args: argparse.Namespace) -> int:
    count = 0
    for r in _service().audit.read(user_id=args.user, account=args.account, since=args.since):
        fields = (r.timestamp, r.account, r.role, r.action, r.user_id, r.object_id, r.outcome, r.client)
        print("\t".join("-" if value is None else str(value) for value in fields))
        count += 1
    print(f"{count} audit records")
    return 0


def _guarded(handler: Any) -> Any:
    """Print a refused operation as one line on stderr (exit 1) instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            result: int = handler(args)
        except AccountError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        return result

    return run


def add_commands(commands: Any) -> None:
    """Add `accounts`, `tokens` and `audit` to the `a3cp` subcommands."""
    accounts = commands.add_parser("accounts", help="operator accounts and their grants").add_subparsers(
        dest="accounts_command", required=True
    )
    create = accounts.add_parser("create", help="create an account (password from stdin or a prompt)")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(handler=_guarded(_create))
    password = accounts.add_parser("passwd", help="change an account's password (ends its logins)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password.set_defaults(handler=_guarded(_password))
    for name, handler, text in (("grant", _grant, "give"), ("revoke", _revoke, "take back")):
        sub = accounts.add_parser(name, help=f"{text} an account access to a user's data")
        sub.add_argument("name")
        sub.add_argument("user_id")
        sub.set_defaults(handler=_guarded(handler))
    disable = accounts.add_parser("disable", help="disable an account (ends its logins and tokens)")
    disable.add_argument("name")
    disable.set_defaults(handler=_guarded(_disable))
    accounts.add_parser("list", help="every account, role and grants").set_defaults(
        handler=_guarded(_list_accounts)
    )

    tokens = commands.add_parser("tokens", help="API tokens for scripts").add_subparsers(
        dest="tokens_command", required=True
    )
    token_create = tokens.add_parser("create", help="issue a token; printed once, on the last line")
    token_create.add_argument("account")
    token_create.add_argument(
        "--expires", type=float, metavar="DAYS", help="valid this many days (default: no end)"
    )
    token_create.set_defaults(handler=_guarded(_create_token))
    token_revoke = tokens.add_parser("revoke", help="revoke a token by its id")
    token_revoke.add_argument("token_id")
    token_revoke.set_defaults(handler=_guarded(_revoke_token))
    tokens.add_parser("list", help="every token (ids only, never secrets)").set_defaults(
        handler=_guarded(_list_tokens)
    )

    audit = commands.add_parser("audit", help="print the audit trail, oldest first")
    audit.add_argument("--user", help="only records about this user_id")
    audit.add_argument("--account", help="only records of this account")
    audit.add_argument(
        "--since", type=_since, help="only records at or after this ISO 8601 time (UTC default)"
    )
    audit.set_defaults(handler=_guarded(_audit))


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--tls",
        action="store_true",
        default=os.environ.get("A3CP_TLS") == "1",
        help="serve HTTPS and WSS (also A3CP_TLS=1); without --tls-cert/--tls-key a local CA is made once",
    )
    serve.add_argument(
        "--tls-name",
        action="append",
        dest="tls_names",
        default=[name for name in os.environ.get("A3CP_TLS_NAMES", "").split(",") if name.strip()],
        metavar="NAME",
        help="one more host name or IP address in the generated certificate, repeatable (also "
        "A3CP_TLS_NAMES, comma-separated): how tablets reach this machine, e.g. a Docker host's LAN address",
    )
    serve.add_argument(
        "--link-host",
        default=os.environ.get("A3CP_LINK_HOST", ""),
        metavar="NAME",
        help="the host name the printed setup link uses (also A3CP_LINK_HOST; default: the bind address, "
        "or this machine's name when binding all interfaces): a container's own name means nothing to a user",
    )
    serve.add_argument("--tls-cert", type=Path, help="the server certificate (PEM), with --tls-key")
    serve.add_argument("--tls-key", type=Path, help="its private key (PEM)")


def _link_host(host: str, link_host: str) -> str:
    if link_host:
        host = link_host
    elif host in {"0.0.0.0", "::", ""}:
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def prepare_serve(args: argparse.Namespace) -> dict[str, Any]:
    """Before serving: the TLS files (printing the CA to install) and, with no account yet, the one-time
    setup link. Returns uvicorn's TLS keyword arguments."""
    settings = Settings.from_env()
    StorageLayout(settings).ensure_roots()
    options: dict[str, Any] = {}
    if args.tls:
        from a3cp.tls import tls_files

        files = tls_files(settings, args.host, args.tls_cert, args.tls_key, args.tls_names)
        options = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        if files.ca_cert is not None:
            print(f"TLS: local CA {files.ca_cert}")
            print(f"TLS: CA SHA-256 fingerprint {files.ca_fingerprint}")
            print(f"TLS: install that CA on each tablet once: see {TLS_README}")
    secret = AccountService.build(settings).issue_setup_link() if args.role != "extractor" else None
    if secret is not None:  # the extractor role serves no pages: its ingest peer prints the link
        scheme = "https" if args.tls else "http"
        print("No account exists yet. Open this one-time link (valid 1 hour) to create the first admin:")
        print(f"  {scheme}://{_link_host(args.host, args.link_host)}:{args.port}/setup/{secret}", flush=True)
        print(
            "Then, on /admin, create a carer and grant them a person; the carer opens /demo/gesture, "
            "records the person's consent there and captures (README: Accounts and the first run)."
        )
    if not settings.consent_required and args.role != "extractor":
        print(
            "Consent is NOT enforced (A3CP_CONSENT_REQUIRED=0): captures are taken without the person's "
            "recorded consent (docs/privacy.md)."
        )
    sys.stdout.flush()
    return options

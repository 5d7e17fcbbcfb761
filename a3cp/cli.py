"""The `a3cp` command line: serve, rebuild, sweep, verify, replay; accounts, tokens, audit; evaluate;
export."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from a3cp.accounts.cli import add_commands, add_serve_options, prepare_serve
from a3cp.config import ROLES, Settings
from a3cp.export.cli import add_export_parser
from a3cp.recognition.cli import add_evaluate_parser


def serve_log_config() -> dict[str, Any]:
    """uvicorn's logging setup plus the `a3cp` loggers at INFO on its console handler (every capture's
    end, every refusal is one line)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["a3cp"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from web.server_limits import uvicorn_options

    os.environ["A3CP_ROLE"] = args.role  # read by Settings.from_env() inside the app factory
    tls = prepare_serve(args)
    limits = uvicorn_options(Settings.from_env().http_limits, args.workers)  # docs/limits.md
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        log_config=serve_log_config(),
        **limits,
        **tls,
    )
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _rebuild(args: argparse.Namespace) -> int:
    from a3cp.bootstrap import projection_for

    projection = projection_for(Settings.from_env())
    with projection.guard.exclusive():  # serving processes wait instead of rebuilding the file too
        summary = projection.rebuild(progress=not args.quiet, jobs=args.jobs)
    print(summary.line())
    return 0


def _user_takes(user_id: str) -> dict[str, list[Any]]:
    """label -> the takes of `user_id`'s vocabulary, for `a3cp evaluate --user` (TrainConsentRequired
    without `train` consent where consent is enforced)."""
    from a3cp.bootstrap import Services

    service = Services.build(Settings.from_env()).recognition
    vocabulary = service.vocabulary(user_id)
    if vocabulary.refusal is not None:
        raise vocabulary.refusal
    return service.takes(vocabulary)


def _sweep(args: argparse.Namespace) -> int:
    from a3cp.bootstrap import Services

    closed = Services.build(Settings.from_env()).sweeper.sweep()
    print(f"closed {len(closed)} idle sessions" + "".join(f"\n  {session_id}" for session_id in closed))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from a3cp.accounts.audit import AuditTrail
    from a3cp.export.retention import retire_stale
    from a3cp.schemas import utc_now
    from a3cp.services.consent import ConsentService
    from a3cp.services.verify import repair, verify

    settings = Settings.from_env()
    if args.repair:  # docs/privacy.md: an erasure a crash interrupted is finished here, as at a start
        consent = ConsentService(settings)
        finished = consent.erase_pending(args.user) if args.user else consent.resume_erasures()
        for erased in finished:
            print(f"finished the erasure of {erased.capture_record_id} (user {erased.user_id})")
        retirement = retire_stale(settings, AuditTrail(settings), consent, utc_now(), user_id=args.user)
        for export_id in retirement.retired:
            print(f"deleted export {export_id}: its people no longer allow the server to hold it")
    report = verify(settings, args.user, args.session)
    for line in report.failure_lines():
        print(line)
    print(report.summary())
    if args.repair and (report.orphans or report.strays):
        for path in repair(report):
            print(f"removed {path}")
        report = verify(settings, args.user, args.session)
    failures = len(report.failure_lines())
    print(f"verified {len(report.checks)} feature events: {'OK' if report.ok else f'{failures} failures'}")
    counts = ", ".join(f"{report.statuses[status]} {status}" for status in ("active", "discarded", "erased"))
    print(f"captures: {counts}")
    return 0 if report.ok else 1


def _replay(args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter, ValidationError

    from a3cp.bootstrap import Services
    from a3cp.schemas import RecordId
    from a3cp.services.verify import check_feature_event, load_feature_event

    try:
        record_id = TypeAdapter(RecordId).validate_python(args.record_id)
    except ValidationError:
        print(f"not a UUIDv4 record_id: {args.record_id!r}")
        return 2
    services = Services.build(Settings.from_env())
    found = services.reads.find_record(record_id)
    event = load_feature_event(services.settings, found.log_path, found.log_offset) if found else None
    if event is None:
        print(f"no feature event with record_id {record_id}")
        return 1
    check = check_feature_event(services.settings, event)
    reference = event.raw_features_ref
    frames, dims = reference.shape if reference is not None and reference.shape is not None else (None, None)
    print(f"record_id {record_id}")
    print(f"T {frames}\nD {dims}")
    print(
        f"hash {reference.hash if reference else None}\nencoding {reference.encoding if reference else None}"
    )
    print(f"quality {event.quality}")
    print("verified: yes" if check.ok else "verified: NO\n" + "\n".join(check.problems))
    return 0 if check.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="a3cp", description="A3CP gesture capture service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="all: one process; ingest: forwards captures to A3CP_EXTRACTOR_URL; extractor: runs MediaPipe",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port, the logs and the projection (docs/benchmarks.md)",
    )
    add_serve_options(serve)
    serve.set_defaults(handler=_serve)
    rebuild = commands.add_parser("rebuild", help="drop the projection and replay every log under LOG_ROOT")
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar, only the summary line")
    rebuild.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        help="worker processes parsing the logs (default: one per CPU; 1: none, all in this process, as "
        "for logs too small to be worth it) (docs/projection.md)",
    )
    rebuild.set_defaults(handler=_rebuild)
    sweep = commands.add_parser("sweep", help="close sessions idle for A3CP_SESSION_TIMEOUT_S (system end)")
    sweep.set_defaults(handler=_sweep)
    verify = commands.add_parser("verify", help="check every feature event against its .npz file")
    verify.add_argument("--user", help="only this user's sessions")
    verify.add_argument("--session", help="only this session")
    verify.add_argument(
        "--repair",
        action="store_true",
        help="finish interrupted erasures, remove orphan feature files and stray temp files, listing each",
    )
    verify.set_defaults(handler=_verify)
    replay = commands.add_parser("replay", help="show one capture's features and whether its file verifies")
    replay.add_argument("record_id")
    replay.set_defaults(handler=_replay)
    add_commands(commands)
    add_evaluate_parser(commands, _user_takes)
    add_export_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())

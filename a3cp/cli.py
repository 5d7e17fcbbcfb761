"""The `a3cp` command line: serve (and, as they arrive, rebuild, replay, verify)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from a3cp.config import ROLES


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    os.environ["A3CP_ROLE"] = args.role  # read by Settings.from_env() inside the app factory
    uvicorn.run("web.app:create_app", factory=True, host=args.host, port=args.port, log_level="info")
    return 0


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
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())

"""`a3cp export OUT_DIR --format npz|islr|pose [filters]`: a dataset export into OUT_DIR.

Two ways to run it (docs/export.md):
- as the local operator (default): the shell that can read DATA_ROOT and LOG_ROOT already holds every
  capture, so the command exports for every user, audited as "system" from "local";
- as an account, with `--server URL` and the API token in `A3CP_TOKEN` (never on the command line,
  where `ps` shows it): the server runs the export (`POST /exports`, its access rules: a researcher for
  granted users, an admin for all) and the archive is downloaded and unpacked into OUT_DIR.
A tqdm bar shows the captures written (the server's progress lines, with `--server`), then the download.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from a3cp.schemas import ExportRequest

if TYPE_CHECKING:
    import httpx

TOKEN_ENV = "A3CP_TOKEN"


def parse_min_quality(text: str) -> dict[str, float]:
    """`pose=0.8,left_hand=0.5` as {part: fraction} (the model checks the parts and the range)."""
    quality = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--min-quality: {item!r} is not PART=FRACTION")
        try:
            quality[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--min-quality: {value!r} is not a number") from None
    return quality


def request_of(args: argparse.Namespace) -> ExportRequest:
    body: dict[str, Any] = {
        "format": args.format,
        "users": args.user or [],
        "labels": args.label or [],
        "since": args.since,
        "until": args.until,
        "min_quality": args.min_quality or {},
        "include_discarded": args.include_discarded,
    }
    return ExportRequest.model_validate(body)


def _local(request: ExportRequest, out_dir: Path, quiet: bool) -> int:
    from tqdm import tqdm

    from a3cp.accounts.audit import AuditTrail
    from a3cp.config import Settings
    from a3cp.export.service import record_export, run_export
    from a3cp.schemas import SYSTEM_PERFORMER, new_record_id, utc_now

    settings = Settings.from_env()
    with tqdm(total=0, unit="capture", disable=quiet, desc="export") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        outcome = run_export(
            settings, request, out_dir, export_id=new_record_id(), created_at=utc_now(), progress=progress
        )
    audit = AuditTrail(settings)
    record_export(audit, request, outcome, client="local", account=SYSTEM_PERFORMER, role=None)
    print(f"exported {outcome.manifest['captures_count']} captures to {out_dir} (export {outcome.export_id})")
    return 0


def export_through(http: httpx.Client, request: ExportRequest, out_dir: Path, quiet: bool = True) -> int:
    """Run the export on the server `http` talks to (its progress lines drive the bar), then download
    and unpack the archive into `out_dir`; 1 with the server's error on a refusal."""
    from tqdm import tqdm

    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        print(f"{out_dir} exists and is not empty", file=sys.stderr)
        return 1
    body = request.model_dump(mode="json", exclude_none=True)
    answer: dict[str, Any] = {}
    with (
        http.stream("POST", "/exports", json=body, headers={"Accept": "application/x-ndjson"}) as response,
        tqdm(unit="capture", disable=quiet, desc="export") as bar,
    ):
        if response.status_code != 200:
            print(f"export refused ({response.status_code}): {response.read().decode()}", file=sys.stderr)
            return 1
        for line in response.iter_lines():
            answer = json.loads(line)
            if "progress" in answer:
                bar.total = answer["progress"]["total"]
                bar.update(answer["progress"]["done"] - bar.n)
    if "export" not in answer:
        print(f"export failed: {answer.get('error')}", file=sys.stderr)
        return 1
    created = answer["export"]
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        with http.stream("GET", created["download"]) as response:
            response.raise_for_status()
            with tqdm(unit="B", unit_scale=True, disable=quiet, desc="download") as bar:
                for chunk in response.iter_bytes():
                    archive.write(chunk)
                    bar.update(len(chunk))
        archive.seek(0)
        _unpack(archive, out_dir)
    count = created["manifest"]["captures_count"]
    print(f"exported {count} captures to {out_dir} (export {created['export_id']})")
    return 0


def _remote(request: ExportRequest, out_dir: Path, server: str, quiet: bool) -> int:
    import httpx

    token = os.environ.get(TOKEN_ENV)
    if not token:
        print(f"--server needs the API token in {TOKEN_ENV}", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=None) as http:
        return export_through(http, request, out_dir, quiet)


def _unpack(archive: Any, out_dir: Path) -> None:
    """The archive's `a3cp-export/` members into `out_dir` (tarfile's `data` filter: no links out)."""
    from a3cp.export.archive import ARCHIVE_ROOT

    with tarfile.open(fileobj=archive, mode="r:") as tar:
        members = []
        for member in tar.getmembers():
            prefix, _, rest = member.name.partition("/")
            if prefix == ARCHIVE_ROOT and rest:
                member.name = rest
                members.append(member)
        tar.extractall(out_dir, members=members, filter="data")


def _export(args: argparse.Namespace) -> int:
    from a3cp.domain.errors import DomainError

    try:
        request = request_of(args)
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}", file=sys.stderr)
        return 2
    try:
        if args.server:
            return _remote(request, args.out_dir, args.server, args.quiet)
        return _local(request, args.out_dir, args.quiet)
    except (DomainError, FileExistsError) as exc:
        print(str(exc), file=sys.stderr)
        return 1


def add_export_parser(commands: Any) -> None:
    """Add `a3cp export` to the `a3cp` subcommands."""
    export = commands.add_parser(
        "export", help="export consented, verified captures as a pseudonymous dataset (docs/export.md)"
    )
    export.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="must not exist, or be empty")
    export.add_argument("--format", required=True, choices=("npz", "islr", "pose"))
    export.add_argument("--user", action="append", help="only this user (repeatable)")
    export.add_argument("--label", action="append", help="only captures with this label (repeatable)")
    export.add_argument("--since", help="captures started at or after this time (ISO 8601 with offset)")
    export.add_argument("--until", help="captures started before this time")
    export.add_argument("--min-quality", type=parse_min_quality, help="per part, e.g. pose=0.8,left_hand=0.5")
    export.add_argument("--include-discarded", action="store_true", help="also discarded captures")
    export.add_argument("--server", help=f"export through this server as the account of ${TOKEN_ENV}")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    export.set_defaults(handler=_export)

"""The container health probe (apps/*/Dockerfile, docker-compose.yml): `python -m a3cp.healthcheck PORT`
exits 0 when `GET /healthz` on 127.0.0.1:PORT answers 200, over HTTPS when A3CP_TLS=1 (as `a3cp serve`
reads it), else over HTTP.

Over HTTPS the probe does not verify the certificate: it asks whether this process answers, from inside
its own container, and must keep answering with a certificate given by `--tls-cert` that names only the
clinic's host. Clients verify it (the compose check does, with the generated CA).
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request

TIMEOUT_S = 2


def probe_url(port: int, tls: bool) -> str:
    return f"{'https' if tls else 'http'}://127.0.0.1:{port}/healthz"


def _liveness_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def healthy(port: int, tls: bool) -> bool:
    context = _liveness_context() if tls else None
    try:
        with urllib.request.urlopen(probe_url(port, tls), timeout=TIMEOUT_S, context=context) as answer:
            return bool(answer.status == 200)
    except OSError:  # refused, timed out, TLS failure, or an HTTP error status (HTTPError is an OSError)
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m a3cp.healthcheck PORT", file=sys.stderr)
        return 2
    return 0 if healthy(int(args[0]), os.environ.get("A3CP_TLS") == "1") else 1


if __name__ == "__main__":
    sys.exit(main())

"""Run one user's pending erasure and SIGKILL this process at a chosen point (tests/consent).

Usage: python -m tests.consent.erasure_crash_child DATA_ROOT LOG_ROOT USER_ID POINT, where POINT is
`after_delete` (the first capture's file deleted, its event not yet appended) or `between_captures`
(the first capture erased and recorded, the second not yet touched).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from a3cp.config import Settings
from a3cp.services.consent import ConsentService


def main() -> None:
    data_root, log_root, user_id, point = sys.argv[1:]
    settings = Settings(data_root=Path(data_root), log_root=Path(log_root), db_url="sqlite://")
    service = ConsentService(settings)
    deletions = 0
    delete = service._delete_file

    def delete_then_maybe_die(uri: str | None) -> None:
        nonlocal deletions
        if point == "between_captures" and deletions == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        delete(uri)
        deletions += 1
        if point == "after_delete":
            os.kill(os.getpid(), signal.SIGKILL)

    service._delete_file = delete_then_maybe_die  # type: ignore[method-assign]
    erased: Any = service.erase_pending(user_id)
    print(f"finished without being killed: {erased}")


if __name__ == "__main__":
    main()

"""Replica log files: where they are and how to read their tail."""

from __future__ import annotations


from modelserve.errors import NotFound
from modelserve.settings import Settings


def read_logs(settings: Settings, run_id: str, replica: int, tail: int) -> str:
    path = settings.replica_log(run_id, replica)
    if not path.exists():
        raise NotFound(f"no logs for replica {replica} of run {run_id} yet", param="replica")
    with open(path, "rb") as f:
        data = f.read()[-4 * 1024 * 1024 :].decode("utf-8", "replace")
    return "\n".join(data.splitlines()[-tail:]) + "\n"

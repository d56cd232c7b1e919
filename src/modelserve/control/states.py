"""Run states, the actions a user may ask for in each, and which states the reconciler still works on."""

from __future__ import annotations

from modelserve.errors import Conflict

CREATED, READY, PENDING, RUNNING = "CREATED", "READY", "PENDING", "RUNNING"
STOP, STOPPED, RESUME = "STOP", "STOPPED", "RESUME"
ERROR, DELETING, DELETED = "ERROR", "DELETING", "DELETED"

ALL_STATES = (CREATED, READY, PENDING, RUNNING, STOP, STOPPED, RESUME, ERROR, DELETING, DELETED)
# States the reconciler visits every tick (STOPPED and ERROR only when asked to resume or delete).
ACTIVE = (CREATED, READY, PENDING, RUNNING, STOP, RESUME, DELETING)

_ALLOWED = {
    "stop": {CREATED, READY, PENDING, RUNNING, RESUME},
    "resume": {STOPPED, ERROR},
    "delete": set(ALL_STATES) - {DELETING, DELETED},
}


def check_action(action: str, state: str, desired: str, run_id: str) -> None:
    """Raise Conflict when `action` makes no sense for a run in `state`."""
    if action == desired and action != "resume":
        return  # asking twice is harmless
    if state not in _ALLOWED[action]:
        raise Conflict(f"cannot {action} run {run_id}: it is {state}", param="state", code="invalid_state")

"""short_spins: a short OpenMP spin unless the user chose a wait policy or a spin count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = (
    "import os; from modelserve.builtin.openmp import short_spins; short_spins(); "
    "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "None 3000"),
        ({"OMP_WAIT_POLICY": "PASSIVE"}, "PASSIVE None"),
        ({"GOMP_SPINCOUNT": "100000"}, "None 100000"),
    ],
    ids=["default", "user-policy-kept", "user-spincount-kept"],
)
def test_short_spins_respects_the_users_choice(given: dict[str, str], expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", CODE], env={**env, **given}, capture_output=True, text=True, check=True)
    assert out.stdout.split() == expected.split()


def test_nothing_changes_once_torch_is_loaded() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", "import torch; " + CODE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "None"]

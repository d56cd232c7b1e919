"""The engine's own error line is what a failed run reports."""

from __future__ import annotations

import pytest

from modelserve.executors.local.process import error_line


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["loading", "ValueError: no config.json in /m", "exiting"], "ValueError: no config.json in /m"),
        (["╭─ Error ──────────╮", "│ No such option: --x │", "╰──────────────────╯"], "No such option: --x"),
        (["just a line"], "just a line"),
        ([], "(no output)"),
    ],
    ids=["traceback-line", "rich-box", "no-error-word", "empty"],
)
def test_error_line(lines: list[str], expected: str) -> None:
    assert error_line(lines) == expected

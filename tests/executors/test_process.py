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
        (
            [
                "Traceback (most recent call last):",
                '  File "x.py", line 3, in <module>',
                "FileNotFoundError: [Errno 2] No such file or directory: '/m/config.json'",
                "ERROR:    Application startup failed. Exiting.",
            ],
            "FileNotFoundError: [Errno 2] No such file or directory: '/m/config.json'",
        ),
        (
            [
                "pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig",
                "  Value error, Invalid repository ID or local directory specified: '/m' [type=value_error]",
                "    For further information visit https://errors.pydantic.dev/2.12/v/value_error",
            ],
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig "
            "Value error, Invalid repository ID or local directory specified: '/m' [type=value_error]",
        ),
        (
            ["ValueError: 2 errors for Config", "  max_len: Input should be a valid integer", "INFO: bye"],
            "ValueError: 2 errors for Config max_len: Input should be a valid integer",
        ),
        (["WARNING: slow", "startup failed: port in use"], "startup failed: port in use"),
        (
            [
                "pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig",
                "  Value error, Invalid repository ID or local directory specified: '/m'.",
                "Please verify the following requirements:",
                "   - For Hugging Face models: ensure the presence of a 'config.json'.",
                " [type=value_error, input_value=ArgsKwargs((), {}), input_type=ArgsKwargs]",
            ],
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig "
            "Value error, Invalid repository ID or local directory specified: '/m'.",
        ),
        (
            ["OSError: old crash", "restarting", "modelserve.builtin: failed to load 'm': no config.json"],
            "modelserve.builtin: failed to load 'm': no config.json",
        ),
    ],
    ids=[
        "traceback-line", "rich-box", "no-error-word", "empty", "exception-over-uvicorn-exit",
        "pydantic-detail", "exception-with-plain-detail", "error-word-fallback",
        "vllm-validation-error", "later-top-level-error-wins",
    ],
)
def test_error_line(lines: list[str], expected: str) -> None:
    assert error_line(lines) == expected

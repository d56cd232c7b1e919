"""FasterWhisper for `kubeai-speech`: served by the built-in engine's speech task.

faster-whisper is a library with no HTTP server of its own (KubeAI runs a separate server image
around it), so this engine starts `python -m modelserve.builtin --task transcribe`, which runs a
CTranslate2 model folder with faster-whisper. It is available when the engine's interpreter
(this one unless `engines.fasterwhisper.python` names another) imports faster_whisper and
modelserve, and its built-in engine offers `--task transcribe` (asked through its `--help`
once per other interpreter). User args pass only where the built-in engine understands them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from modelserve.engines.base import (
    SPEECH_TASKS,
    Availability,
    LaunchPlan,
    ModelArtifact,
    merge_args,
    require_task,
)
from modelserve.engines.builtin import known_args
from modelserve.engines.locate import engine_python, has_module, python_module_availability
from modelserve.errors import InvalidRequest
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings

TASK = "transcribe"
_TRANSCRIBE_SUPPORT: dict[str, bool] = {}


class FasterWhisperEngine:
    name = "fasterwhisper"
    display = "FasterWhisper"
    fetches_model = True

    def available(self, settings: Settings) -> Availability:
        found = python_module_availability(
            settings,
            self.name,
            "faster_whisper",
            "run scripts/engines/install.sh fasterwhisper, or pip install 'modelserve[speech]'",
        )
        if not found.ok:
            return found
        python = engine_python(settings, self.name)
        if not has_module(python, "modelserve"):
            return Availability(
                False,
                f"faster-whisper found ({found.detail}), but {python} cannot import modelserve, whose "
                f"built-in engine serves it: install modelserve[engine,speech] there, or unset "
                f"MODELSERVE_ENGINES__FASTERWHISPER__PYTHON to use {sys.executable}",
            )
        if not builtin_supports_transcribe(python):
            return Availability(
                False,
                f"faster-whisper found ({found.detail}), but the built-in engine in {python} "
                f"has no --task {TASK}, and faster-whisper has no server of its own",
            )
        return Availability(True, f"{found.detail}, served by the built-in engine --task {TASK}")

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        require_task(self.display, plan.task, SPEECH_TASKS)
        if artifact.adapters:
            raise InvalidRequest("the FasterWhisper engine serves no adapters", param="adapters")
        defaults = [
            "--model", str(artifact.path),
            "--served-model-name", plan.served_name,
            "--task", TASK,
            "--host", "127.0.0.1",
            "--port", str(port),
        ]
        # The built-in engine serves it, so only the args it understands pass (as for its fallback use).
        args = merge_args(defaults, known_args(plan.args))
        argv = (engine_python(settings, self.name), "-m", "modelserve.builtin", *args)
        env = {"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", **plan.envs}
        return LaunchPlan(self.name, argv, env, port, plan.served_name, "/health")


def builtin_supports_transcribe(python: str) -> bool:
    """Whether `python -m modelserve.builtin --help` lists the transcribe task (cached per interpreter).

    This interpreter is asked directly (its own parser's task list); any other one by running it.
    """
    if Path(python).absolute() == Path(sys.executable).absolute():
        from modelserve.builtin.config import TASKS

        return TASK in TASKS
    if python not in _TRANSCRIBE_SUPPORT:
        try:
            out = subprocess.run(
                [python, "-m", "modelserve.builtin", "--help"],
                check=False,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return False
        _TRANSCRIBE_SUPPORT[python] = TASK in out
    return _TRANSCRIBE_SUPPORT[python]

"""Engines detected here but launched in a later release of the local executor.

Their availability is checked honestly so a run that asks for them falls back to the built-in
engine (or fails with an actionable message) instead of pretending to launch them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from modelserve.engines.base import (
    Availability,
    LaunchPlan,
    ModelArtifact,
    python_module_availability,
)
from modelserve.errors import InvalidRequest
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings


@dataclass(frozen=True)
class DetectedEngine:
    name: str
    display: str
    module: str | None
    binary: str | None
    install_hint: str

    def available(self, settings: Settings) -> Availability:
        cfg = settings.engines.get(self.name)
        if self.binary:
            cmd = (cfg.command if cfg and cfg.command else None) or shutil.which(self.binary)
            if cmd:
                return Availability(False, f"{self.display} found at {cmd}, but the local executor cannot launch it yet")
            return Availability(False, self.install_hint)
        assert self.module is not None
        found = python_module_availability(settings, self.name, self.module, self.install_hint)
        if found.ok:
            return Availability(False, f"{self.display} found ({found.detail}), but the local executor cannot launch it yet")
        return found

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        raise InvalidRequest(f"engine {self.display} cannot be launched by the local executor", param="engine")


OLLAMA = DetectedEngine("ollama", "Ollama", None, "ollama", "install Ollama (https://ollama.com)")
INFINITY = DetectedEngine("infinity", "Infinity", "infinity_emb", None, 'pip install "infinity-emb[server,torch]"')
FASTERWHISPER = DetectedEngine("fasterwhisper", "FasterWhisper", "faster_whisper", None, "pip install faster-whisper")
LLAMACPP = DetectedEngine("llamacpp", "llama.cpp", "llama_cpp", None, 'pip install "llama-cpp-python[server]"')

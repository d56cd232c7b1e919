"""`kubeai-speech`: speech to text on FasterWhisper (KubeAI Model, feature SpeechToText)."""

from __future__ import annotations

from modelserve.runtimes.base import SPEECH_ENDPOINTS, RunView, base_plan
from modelserve.runtimes.plan import DeploymentPlan


class KubeAISpeechRuntime:
    kind = "kubeai-speech"

    def plan(self, run: RunView, exposed_name: str) -> DeploymentPlan:
        return base_plan(
            run,
            exposed_name,
            engine="fasterwhisper",
            task="transcribe",
            features=("SpeechToText",),
            routing_features=("SpeechToText",),
            endpoints=SPEECH_ENDPOINTS,
        )

"""Runtimes: one per function kind, each mapping a run to a DeploymentPlan. Registry by kind name."""

from __future__ import annotations

from modelserve.errors import InvalidRequest
from modelserve.runtimes.base import Runtime, RunView
from modelserve.runtimes.huggingfaceserve import HuggingfaceServeRuntime
from modelserve.runtimes.kubeai_speech import KubeAISpeechRuntime
from modelserve.runtimes.kubeai_text import KubeAITextRuntime
from modelserve.runtimes.plan import AdapterPlan, DeploymentPlan
from modelserve.runtimes.vllmserve import VLLM_POOLING, VLLM_SPEECH, VLLM_TEXT

RUNTIMES: dict[str, Runtime] = {
    r.kind: r
    for r in (
        KubeAITextRuntime(),
        KubeAISpeechRuntime(),
        VLLM_TEXT,
        VLLM_SPEECH,
        VLLM_POOLING,
        HuggingfaceServeRuntime(),
    )
}


def runtime_for(kind: str) -> Runtime:
    try:
        return RUNTIMES[kind]
    except KeyError:
        raise InvalidRequest(
            f"unknown kind {kind!r}; expected one of {', '.join(RUNTIMES)}", param="kind"
        ) from None


__all__ = ["AdapterPlan", "DeploymentPlan", "RUNTIMES", "Runtime", "RunView", "runtime_for"]

"""Ollama (`ollama serve`), one server per replica, as KubeAI runs it for `engine: OLlama`.

Ollama fetches its own models: after the server answers, the executor runs the plan's
`post_start` calls (pull the tag, copy it to the served name, load it into memory), the same steps
KubeAI's startup probe takes with the ollama CLI. Model urls: `ollama://<tag>` (`?pull=false`,
`?insecure=true` as in KubeAI) and `hf://<org>/<repo>[:<quant>]` (a GGUF repo, pulled as hf.co/...).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from modelserve.engines.base import (
    SPEECH_TASKS,
    Availability,
    HttpCall,
    LaunchPlan,
    ModelArtifact,
    merge_args,
    require_task,
)
from modelserve.engines.locate import configured_command
from modelserve.errors import InvalidRequest
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings

PULL_TIMEOUT_S = 3 * 3600.0  # KubeAI gives a pull 180 minutes


class OllamaEngine:
    name = "ollama"
    display = "Ollama"
    fetches_model = False

    def available(self, settings: Settings) -> Availability:
        cmd = configured_command(settings, self.name, "ollama")
        if cmd:
            return Availability(True, f"command {' '.join(cmd)}")
        return Availability(
            False, "install Ollama (https://ollama.com), or set MODELSERVE_ENGINES__OLLAMA__COMMAND"
        )

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        cmd = configured_command(settings, self.name, "ollama")
        if cmd is None:
            raise InvalidRequest(self.available(settings).detail, param="engine")
        require_task(self.display, plan.task, refused=SPEECH_TASKS)
        if plan.adapters:
            raise InvalidRequest("the Ollama engine serves no adapters", param="adapters")
        ref = ollama_ref(plan.model_url)
        env = {
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_DEBUG": "false",
            "GIN_MODE": "release",
            "OLLAMA_ORIGINS": "*",
            # One model per server: keep it loaded (Ollama treats 0 as "unload at once").
            "OLLAMA_KEEP_ALIVE": "999999h",
            **plan.envs,
        }
        argv = (*cmd, *merge_args(["serve"], plan.args))
        return LaunchPlan(
            self.name, argv, env, port, plan.served_name, "/",
            post_start=post_start_calls(ref, plan.served_name, warm=plan.task == "generate"),
        )


def post_start_calls(ref: OllamaRef, served_name: str, *, warm: bool) -> tuple[HttpCall, ...]:
    """Pull (unless disabled), copy to the served name, and load a generation model into memory."""
    calls: list[HttpCall] = []
    if ref.pull:
        body: dict[str, object] = {"model": ref.tag, "stream": False}
        if ref.insecure:
            body["insecure"] = True
        calls.append(HttpCall("POST", "/api/pull", body, timeout_s=PULL_TIMEOUT_S))
    if ref.tag != served_name:
        calls.append(HttpCall("POST", "/api/copy", {"source": ref.tag, "destination": served_name}))
    if warm:  # an empty prompt loads the model (embedding models refuse generate)
        calls.append(HttpCall("POST", "/api/generate", {"model": served_name, "stream": False}, timeout_s=600.0))
    return tuple(calls)


@dataclass(frozen=True)
class OllamaRef:
    """A model reference Ollama can pull: its tag and the KubeAI url options."""

    tag: str
    pull: bool = True
    insecure: bool = False


def ollama_ref(url: str) -> OllamaRef:
    """Parse `ollama://tag[?pull=false&insecure=true]` or `hf://org/repo[:quant]`; InvalidRequest otherwise."""
    parts = urlsplit(url)
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    body = (parts.netloc + parts.path).strip("/")
    if parts.scheme == "ollama" and body:
        return OllamaRef(body, pull=query.get("pull", "true") != "false", insecure=query.get("insecure") == "true")
    if parts.scheme in ("hf", "huggingface") and body:
        return OllamaRef(f"hf.co/{body}")
    raise InvalidRequest(
        f"the Ollama engine serves ollama://<tag> or hf://<org>/<repo> urls, not {url}", param="url"
    )

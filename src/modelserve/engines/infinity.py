"""Infinity (infinity-emb), the embedding/rerank/classify server KubeAI runs for `engine: Infinity`.

`infinity_emb v2 --model-id PATH --served-model-name NAME ...` with `--url-prefix /v1`, as KubeAI
starts it, so `/v1/embeddings` and `/v1/models` sit where OpenAI clients look. Host, port, model
and served name are fixed; engine, device and BetterTransformer are defaults a user arg replaces.
"""

from __future__ import annotations

from modelserve.engines.base import (
    GENERATION_TASKS,
    SPEECH_TASKS,
    Availability,
    LaunchPlan,
    ModelArtifact,
    has_flag,
    merge_args,
    require_task,
)
from modelserve.engines.locate import engine_python, python_module_availability
from modelserve.errors import InvalidRequest
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings

URL_PREFIX = "/v1"


class InfinityEngine:
    name = "infinity"
    display = "Infinity"
    fetches_model = True

    def available(self, settings: Settings) -> Availability:
        return python_module_availability(
            settings, self.name, "infinity_emb",
            'run scripts/engines/install.sh infinity, or pip install "infinity-emb[server,torch]"',
        )

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        # Infinity serves embeddings, rerank and classification.
        require_task(self.display, plan.task, refused=GENERATION_TASKS + SPEECH_TASKS)
        if artifact.adapters:
            raise InvalidRequest("the Infinity engine serves no adapters", param="adapters")
        defaults = [
            "v2",
            "--model-id", str(artifact.path),
            "--served-model-name", plan.served_name,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--url-prefix", URL_PREFIX,
        ]
        for flag, value in (("--engine", "torch"), ("--device", "cpu")):
            if not has_flag(plan.args, flag):
                defaults += [flag, value]
        if not has_flag(plan.args, "--bettertransformer") and not has_flag(plan.args, "--no-bettertransformer"):
            defaults.append("--no-bettertransformer")
        if plan.dtype and plan.dtype != "auto" and not has_flag(plan.args, "--dtype"):
            defaults += ["--dtype", _DTYPES.get(plan.dtype, plan.dtype)]
        argv = (engine_python(settings, self.name), "-m", "infinity_emb.cli", *merge_args(defaults, plan.args))
        env = {
            "HF_HUB_OFFLINE": "1",
            "INFINITY_ANONYMOUS_USAGE_STATS": "0",
            "DO_NOT_TRACK": "1",
            **plan.envs,
        }
        return LaunchPlan(self.name, argv, env, port, plan.served_name, "/health")  # not under the prefix


_DTYPES = {"float": "float32", "half": "float16"}

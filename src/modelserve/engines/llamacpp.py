"""llama.cpp through llama-cpp-python's OpenAI server: `python -m llama_cpp.server --model FILE.gguf`.

Serves one GGUF file under the run's served name. Host, port, model and alias are fixed; user args
are added for keys not already present (`--n_ctx` only replaces the default context size).
"""

from __future__ import annotations

from pathlib import Path

from modelserve.engines.base import (
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

DEFAULT_N_CTX = 2048


class LlamaCppEngine:
    name = "llamacpp"
    display = "llama.cpp"
    fetches_model = True

    def available(self, settings: Settings) -> Availability:
        return python_module_availability(
            settings, self.name, "llama_cpp", 'run scripts/engines/install.sh llamacpp, or pip install "llama-cpp-python[server]"'
        )

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        require_task(self.display, plan.task, refused=SPEECH_TASKS)
        if artifact.adapters:
            raise InvalidRequest(
                "the llama.cpp engine serves no named adapters; use the vLLM or built-in engine for adapters",
                param="adapters",
            )
        defaults = [
            "--model", str(gguf_file(artifact.path, plan.options.get("gguf_file"))),
            "--model_alias", plan.served_name,
            "--host", "127.0.0.1",
            "--port", str(port),
        ]
        if not has_flag(plan.args, "--n_ctx"):
            n_ctx = plan.options.get("max_model_len") or DEFAULT_N_CTX
            defaults += ["--n_ctx", str(n_ctx)]
        if plan.task == "embed" and not has_flag(plan.args, "--embedding"):
            defaults += ["--embedding", "true"]
        argv = (engine_python(settings, self.name), "-m", "llama_cpp.server", *merge_args(defaults, plan.args))
        env = {"PYTHONUNBUFFERED": "1", **plan.envs}
        return LaunchPlan(self.name, argv, env, port, plan.served_name, "/v1/models")


def gguf_file(path: Path, name: object = None) -> Path:
    """The GGUF file to serve: `path` itself, or the one `.gguf` in folder `path` (or the named one).

    Raises InvalidRequest when the folder has none, or several and none is named.
    """
    if path.is_file():
        return path
    if name:
        return path / str(name)
    found = sorted(p for p in path.rglob("*.gguf") if p.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidRequest(f"llama.cpp serves GGUF files and {path} holds no .gguf file", param="url")
    names = ", ".join(p.name for p in found[:5])
    raise InvalidRequest(
        f"{path} holds several GGUF files ({names}); point the url at one of them", param="url"
    )

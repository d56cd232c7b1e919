"""vLLM argv/env per runtime kind and spec: the seed's argument rules, LoRA, CPU and telemetry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.engines.golden import EXPOSED, PORT, PY, RUN_ID, launch, plan_for

MODEL = Path("/models/tiny-llama")
BASE = ["--host", "127.0.0.1", "--port", str(PORT)]
HEAD = [PY["vllm"], "-m", "vllm.entrypoints.openai.api_server"]
CPU_ENV = {"VLLM_BACKEND": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1"}
RUN_ENV = {"PROJECT_NAME": "proj", "RUN_ID": RUN_ID, "HF_HUB_OFFLINE": "1"}

# (id, kind, spec, plan options, expected argv after HEAD, expected env)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str], dict[str, str]]] = [
    (
        "text-default",
        "vllmserve-text", {"url": "store://p/model/huggingface/m", "model_name": "tiny"}, {},
        [*BASE, "--served-model-name", "tiny", "--model", str(MODEL)],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "text-no-model-name-serves-as-model",
        "vllmserve-text", {"url": "hf://org/m"}, {},
        [*BASE, "--served-model-name", "model", "--model", str(MODEL)],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "user-args-cannot-override-fixed-keys",
        "vllmserve-text",
        {"url": "hf://o/m", "model_name": "tiny",
         "args": ["--port", "9999", "--max-model-len", "512", "--enforce-eager", "--host=0.0.0.0"]},
        {},
        [*BASE, "--served-model-name", "tiny", "--model", str(MODEL),
         "--max-model-len", "512", "--enforce-eager", "--host=0.0.0.0"],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "pooling-runner",
        "vllmserve-pooling", {"url": "hf://o/e", "model_name": "emb"}, {},
        [*BASE, "--served-model-name", "emb", "--model", str(MODEL), "--runner", "pooling"],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "speech-generates-transcriptions",
        "vllmserve-speech", {"url": "hf://o/w", "model_name": "stt"}, {},
        [*BASE, "--served-model-name", "stt", "--model", str(MODEL)],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "gpu-image-no-cpu-env-and-dtype",
        "vllmserve-text", {"url": "hf://o/m", "model_name": "tiny", "use_cpu_image": False, "dtype": "BFLOAT16"}, {},
        [*BASE, "--served-model-name", "tiny", "--model", str(MODEL), "--dtype", "bfloat16"],
        RUN_ENV,
    ),
    (
        "kv-cache-is-half-of-mem",
        "vllmserve-text", {"url": "hf://o/m", "model_name": "t", "resources": {"mem": "16Gi"}}, {},
        [*BASE, "--served-model-name", "t", "--model", str(MODEL)],
        {**RUN_ENV, "VLLM_BACKEND": "cpu", "VLLM_CPU_KVCACHE_SPACE": "8"},
    ),
    (
        "telemetry-with-endpoint",
        "vllmserve-text", {"url": "hf://o/m", "model_name": "t"}, {"otlp_endpoint": "http://otel:4317"},
        [*BASE, "--served-model-name", "t", "--model", str(MODEL),
         "--otlp-traces-endpoint", "http://otel:4317", "--collect-detailed-traces", "all"],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "telemetry-off-ignores-endpoint",
        "vllmserve-text", {"url": "hf://o/m", "model_name": "t", "enable_telemetry": False},
        {"otlp_endpoint": "http://otel:4317"},
        [*BASE, "--served-model-name", "t", "--model", str(MODEL)],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "user-envs-win",
        "vllmserve-text",
        {"url": "hf://o/m", "model_name": "t", "envs": [{"name": "VLLM_CPU_KVCACHE_SPACE", "value": "4"}]}, {},
        [*BASE, "--served-model-name", "t", "--model", str(MODEL)],
        {**RUN_ENV, "VLLM_BACKEND": "cpu", "VLLM_CPU_KVCACHE_SPACE": "4"},
    ),
    (
        "kubeai-text-quiet-uvicorn-first",
        "kubeai-text", {"url": "hf://o/m", "model_name": "t", "engine": "VLLM", "args": ["--max-model-len=1024"]}, {},
        ["--uvicorn-log-level=warning", *BASE, "--served-model-name", "t", "--model", str(MODEL),
         "--max-model-len=1024"],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "kubeai-text-embeddings-pool",
        "kubeai-text", {"url": "hf://o/e", "model_name": "e", "engine": "VLLM", "features": ["TextEmbedding"]}, {},
        ["--uvicorn-log-level=warning", *BASE, "--served-model-name", "e", "--model", str(MODEL),
         "--runner", "pooling"],
        {**RUN_ENV, **CPU_ENV},
    ),
    (
        "huggingfaceserve-vllm-backend-classify",
        "huggingfaceserve",
        {"path": "hf://o/c", "model_name": "c", "backend": "VLLM", "huggingface_task": "SEQUENCE_CLASSIFICATION"}, {},
        [*BASE, "--served-model-name", "c", "--model", str(MODEL), "--runner", "pooling"],
        {**RUN_ENV, **CPU_ENV},
    ),
]


@pytest.mark.parametrize(("kind", "spec", "options", "argv", "env"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_vllm_launch_plan(
    tmp_path: Path, kind: str, spec: dict[str, Any], options: dict[str, Any], argv: list[str], env: dict[str, str]
) -> None:
    lp = launch("vllm", plan_for(kind, spec, **options), MODEL, tmp_path)
    assert list(lp.argv) == HEAD + argv
    assert dict(lp.env) == env
    assert (lp.port, lp.health_path, lp.runtime_lora, lp.post_start) == (PORT, "/health", None, ())
    assert lp.served_name == (spec.get("model_name") or "model") != EXPOSED


def _adapter(root: Path, name: str, r: int) -> Path:
    d = root / name
    d.mkdir()
    (d / "adapter_config.json").write_text(json.dumps({"r": r, "peft_type": "LORA"}))
    return d


# (id, adapter ranks, user args, expected LoRA args after --lora-modules values)
LORA_CASES: list[tuple[str, dict[str, int], list[str], list[str]]] = [
    ("rank-8-needs-no-max-rank", {"colorist": 8}, [], []),
    ("rank-64", {"big": 64}, [], ["--max-lora-rank", "64"]),
    ("rank-20-rounds-up-to-32", {"odd": 20}, [], ["--max-lora-rank", "32"]),
    ("two-adapters-max-loras", {"a": 8, "b": 16}, [], ["--max-loras", "2"]),
    ("user-max-rank-kept", {"big": 64}, ["--max-lora-rank", "128"], ["--max-lora-rank", "128"]),
]


@pytest.mark.parametrize(("ranks", "user", "extra"), [c[1:] for c in LORA_CASES], ids=[c[0] for c in LORA_CASES])
def test_vllm_lora_args(tmp_path: Path, ranks: dict[str, int], user: list[str], extra: list[str]) -> None:
    adapters = {name: _adapter(tmp_path, name, r) for name, r in ranks.items()}
    spec = {
        "url": "hf://o/m", "model_name": "tiny", "args": user,
        "adapters": [{"name": n, "url": f"hf://o/{n}"} for n in ranks],
    }
    lp = launch("vllm", plan_for("vllmserve-text", spec), MODEL, tmp_path, adapters)
    modules = [f"{n}={p}" for n, p in adapters.items()]
    tail = list(lp.argv[lp.argv.index("--enable-lora"):])
    assert tail == ["--enable-lora", "--lora-modules", *modules, *extra]
    assert lp.env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    load = lp.load_adapter("late", tmp_path / "late")
    assert (load.method, load.path, dict(load.json or {})) == (
        "POST", "/v1/load_lora_adapter", {"lora_name": "late", "lora_path": str(tmp_path / "late")}
    )
    unload = lp.unload_adapter("late")
    assert (unload.path, dict(unload.json or {})) == ("/v1/unload_lora_adapter", {"lora_name": "late"})


def test_user_enable_lora_allows_runtime_adapters(tmp_path: Path) -> None:
    spec = {"url": "hf://o/m", "model_name": "t", "args": ["--enable-lora", "--max-lora-rank", "8"]}
    lp = launch("vllm", plan_for("vllmserve-text", spec), MODEL, tmp_path)
    assert lp.runtime_lora is not None
    assert lp.env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"


def test_without_lora_adapters_cannot_be_loaded_at_run_time(tmp_path: Path) -> None:
    from modelserve.errors import InvalidRequest

    lp = launch("vllm", plan_for("vllmserve-text", {"url": "hf://o/m"}), MODEL, tmp_path)
    assert "VLLM_ALLOW_RUNTIME_LORA_UPDATING" not in lp.env
    with pytest.raises(InvalidRequest) as err:
        lp.load_adapter("x", "/a/x")
    assert err.value.param == "adapters"


@pytest.mark.parametrize(
    ("mem", "gib"),
    [("16Gi", 8), ("3Gi", 1), ("1Gi", 1), ("32G", 14), ("8192Mi", 4), (str(10 * 2**30), 5), ("lots", 1)],
    ids=["16Gi", "3Gi", "1Gi-floor-1", "32G-decimal", "8192Mi", "bytes", "unparsable-default"],
)
def test_kv_cache_space_from_resources_mem(mem: str, gib: int) -> None:
    from modelserve.engines.vllm import kv_cache_gib

    assert kv_cache_gib({"mem": mem}) == gib

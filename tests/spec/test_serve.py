"""Serve specs: defaults per kind, scaling rules, envs shapes, deprecated spellings, resources."""

from __future__ import annotations

from typing import Any

import pytest

from modelserve.spec import KINDS, HuggingfaceServe, KubeAIServe, VllmServe, parse_serve

from .helpers import rejected

SCALING_DEFAULTS = {
    "replicas": 1,
    "min_replicas": 1,
    "max_replicas": None,
    "autoscaling_disabled": False,
    "target_requests": 100,
    "scale_down_delay_seconds": 30,
    "load_balancing": {
        "strategy": "LeastLoad",
        "prefix_hash": {"mean_load_factor": 125, "replication": 256, "prefix_char_length": 100},
    },
}
COMMON = {"profile": None, "envs": {}, "secrets": [], "args": []}
DEPLOYMENT = {
    "resources": {"cpu": None, "mem": None, "gpu": None, "disk": None},
    "volumes": [],
    "replicas": 1,
    "service_type": "ClusterIP",
    "service_name": None,
}
KUBEAI_DEFAULTS = {
    **COMMON,
    "scaling": SCALING_DEFAULTS,
    "url": None,
    "files": [],
    "cache_profile": None,
    "processors": 1,
}
FIXED_SCALING = {**SCALING_DEFAULTS, "autoscaling_disabled": True}
VLLM_DEFAULTS = {
    **COMMON,
    **DEPLOYMENT,
    "scaling": FIXED_SCALING,
    "url": None,
    "enable_telemetry": True,
    "use_cpu_image": True,
    "storage_space": None,
    "dtype": None,
}
HF_DEFAULTS = {
    **COMMON,
    **DEPLOYMENT,
    "scaling": FIXED_SCALING,
    "path": None,
    "huggingface_task": None,
    "backend": None,
    "tokenizer_revision": None,
    "max_length": None,
    "disable_lower_case": None,
    "disable_special_tokens": None,
    "trust_remote_code": None,
    "return_token_type_ids": None,
    "return_probabilities": None,
    "disable_log_requests": None,
    "dtype": None,
    "tensor_input_names": [],
    "max_log_len": None,
}
DEFAULTS = {
    "kubeai-text": (KubeAIServe, KUBEAI_DEFAULTS),
    "kubeai-speech": (KubeAIServe, KUBEAI_DEFAULTS),
    "vllmserve-text": (VllmServe, VLLM_DEFAULTS),
    "vllmserve-speech": (VllmServe, VLLM_DEFAULTS),
    "vllmserve-pooling": (VllmServe, VLLM_DEFAULTS),
    "huggingfaceserve": (HuggingfaceServe, HF_DEFAULTS),
}


@pytest.mark.parametrize("kind", KINDS)
def test_defaults_per_kind(kind: str) -> None:
    cls, expected = DEFAULTS[kind]
    for empty in ({}, None):
        serve = parse_serve(kind, empty)
        assert type(serve) is cls
        assert serve.model_dump() == expected


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_serve_field_is_named(kind: str) -> None:
    err = rejected(parse_serve, kind, {"scaling": {"load_balancing": {"prefix_hash": {"replicaton": 2}}}})
    assert err.param == "serve.scaling.load_balancing.prefix_hash.replicaton"
    assert "unknown field" in err.message


def test_kubeai_has_no_deployment_fields() -> None:
    assert rejected(parse_serve, "kubeai-text", {"replicas": 2}).param == "serve.replicas"


SCALING_ERRORS = [
    ("negative-replicas", {"replicas": -1}, "serve.scaling.replicas", "greater than or equal to 0"),
    ("negative-min", {"min_replicas": -1}, "serve.scaling.min_replicas", "greater than or equal to 0"),
    ("zero-max", {"max_replicas": 0}, "serve.scaling.max_replicas", "greater than or equal to 1"),
    ("zero-target", {"target_requests": 0}, "serve.scaling.target_requests", "greater than or equal to 1"),
    (
        "negative-delay",
        {"scale_down_delay_seconds": -5},
        "serve.scaling.scale_down_delay_seconds",
        "greater than or equal to 0",
    ),
    (
        "min-above-max",
        {"min_replicas": 3, "max_replicas": 2, "replicas": 3},
        "serve.scaling.min_replicas",
        "greater than max_replicas",
    ),
    ("replicas-below-min", {"replicas": 0}, "serve.scaling.replicas", "min_replicas: 0"),
    (
        "replicas-above-max",
        {"replicas": 5, "max_replicas": 4},
        "serve.scaling.replicas",
        "greater than max_replicas",
    ),
    (
        "low-load-factor",
        {"load_balancing": {"prefix_hash": {"mean_load_factor": 99}}},
        "serve.scaling.load_balancing.prefix_hash.mean_load_factor",
        "100",
    ),
    (
        "zero-replication",
        {"load_balancing": {"prefix_hash": {"replication": 0}}},
        "serve.scaling.load_balancing.prefix_hash.replication",
        "1",
    ),
    (
        "zero-prefix-length",
        {"load_balancing": {"prefix_hash": {"prefix_char_length": 0}}},
        "serve.scaling.load_balancing.prefix_hash.prefix_char_length",
        "1",
    ),
    (
        "unknown-strategy",
        {"load_balancing": {"strategy": "RoundRobin"}},
        "serve.scaling.load_balancing.strategy",
        "LeastLoad",
    ),
    ("camel-case-key", {"loadBalancing": {}}, "serve.scaling.loadBalancing", "unknown field"),
    (
        "both-target-spellings",
        {"target_request": 5, "target_requests": 6},
        "serve.scaling.target_request",
        "target_requests only",
    ),
]


@pytest.mark.parametrize("kind", ["kubeai-text", "vllmserve-text", "huggingfaceserve"])
@pytest.mark.parametrize(
    ("scaling", "param", "message"), [e[1:] for e in SCALING_ERRORS], ids=[e[0] for e in SCALING_ERRORS]
)
def test_scaling_rules(kind: str, scaling: dict[str, Any], param: str, message: str) -> None:
    err = rejected(parse_serve, kind, {"scaling": scaling})
    assert err.param == param
    assert message in err.message


SCALING_OK = [
    ("scale-to-zero", {"replicas": 0, "min_replicas": 0}, {"replicas": 0, "min_replicas": 0}),
    ("bounded", {"replicas": 2, "min_replicas": 1, "max_replicas": 2}, {"max_replicas": 2}),
    (
        "prefix-hash",
        {"load_balancing": {"strategy": "prefixhash", "prefix_hash": {"mean_load_factor": 150}}},
        {
            "load_balancing": {
                "strategy": "PrefixHash",
                "prefix_hash": {"mean_load_factor": 150, "replication": 256, "prefix_char_length": 100},
            }
        },
    ),
    (
        "prefix-cache",
        {"load_balancing": {"strategy": "PrefixCache"}},
        {"load_balancing": {**SCALING_DEFAULTS["load_balancing"], "strategy": "PrefixCache"}},
    ),
]


@pytest.mark.parametrize(("scaling", "expected"), [s[1:] for s in SCALING_OK], ids=[s[0] for s in SCALING_OK])
def test_scaling_accepted(scaling: dict[str, Any], expected: dict[str, Any]) -> None:
    dumped = parse_serve("kubeai-text", {"scaling": scaling}).scaling.model_dump()
    assert {k: dumped[k] for k in expected} == expected


def test_target_request_is_a_deprecated_spelling() -> None:
    with pytest.warns(DeprecationWarning, match="target_requests"):
        serve = parse_serve("kubeai-text", {"scaling": {"target_request": 7}})
    assert serve.scaling.target_requests == 7


ENVS = [
    ("map", {"envs": {"A": "1", "B": "x"}}, {"A": "1", "B": "x"}),
    ("list", {"envs": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}]}, {"A": "1", "B": "x"}),
    ("yaml-scalars", {"envs": {"N": 4, "F": 0.5, "T": True}}, {"N": "4", "F": "0.5", "T": "true"}),
    ("list-without-value", {"envs": [{"name": "EMPTY"}]}, {"EMPTY": ""}),
]


@pytest.mark.parametrize("kind", ["kubeai-text", "vllmserve-pooling", "huggingfaceserve"])
@pytest.mark.parametrize(("data", "expected"), [e[1:] for e in ENVS], ids=[e[0] for e in ENVS])
def test_envs_accept_list_and_map(kind: str, data: dict[str, Any], expected: dict[str, str]) -> None:
    assert parse_serve(kind, data).envs == expected


def test_env_is_a_deprecated_spelling_of_envs() -> None:
    with pytest.warns(DeprecationWarning, match="envs"):
        serve = parse_serve("kubeai-text", {"env": {"HF_HUB_OFFLINE": "1"}})
    assert serve.envs == {"HF_HUB_OFFLINE": "1"}


SERVE_ERRORS = [
    ("env-and-envs", "kubeai-text", {"env": {}, "envs": {}}, "serve.env", "envs only"),
    (
        "env-duplicate",
        "kubeai-text",
        {"envs": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
        "serve.envs[1].name",
        "duplicate",
    ),
    ("env-missing-name", "vllmserve-text", {"envs": [{"value": "1"}]}, "serve.envs[0].name", "required"),
    (
        "env-extra-key",
        "vllmserve-text",
        {"envs": [{"name": "A", "valu": "1"}]},
        "serve.envs[0].valu",
        "unknown",
    ),
    ("env-not-object", "vllmserve-text", {"envs": ["A=1"]}, "serve.envs[0]", "name, value"),
    ("env-bad-name", "kubeai-text", {"envs": {"A=B": "1"}}, "serve.envs.A=B.[key]", "environment variable"),
    ("env-null-value", "kubeai-text", {"envs": {"A": None}}, "serve.envs.A", "string"),
    ("envs-wrong-type", "kubeai-text", {"envs": "A=1"}, "serve.envs", "dictionary"),
    ("bad-secret-name", "kubeai-text", {"secrets": ["has space"]}, "serve.secrets[0]", "secret name"),
    ("args-not-list", "kubeai-text", {"args": "--x"}, "serve.args", "list"),
    ("processors-zero", "kubeai-speech", {"processors": 0}, "serve.processors", "greater than or equal to 1"),
    (
        "file-relative",
        "kubeai-text",
        {"files": [{"path": "etc/x", "content": ""}]},
        "serve.files[0].path",
        "absolute path",
    ),
    (
        "file-colon",
        "kubeai-text",
        {"files": [{"path": "/etc/a:b", "content": ""}]},
        "serve.files[0].path",
        "':'",
    ),
    (
        "file-too-big",
        "kubeai-text",
        {"files": [{"path": "/a", "content": "x" * 100001}]},
        "serve.files[0].content",
        "100000",
    ),
    (
        "file-duplicate",
        "kubeai-text",
        {"files": [{"path": "/a", "content": ""}, {"path": "/a", "content": "y"}]},
        "serve.files[1].path",
        "duplicate",
    ),
    (
        "too-many-files",
        "kubeai-text",
        {"files": [{"path": f"/f{i}", "content": ""} for i in range(11)]},
        "serve.files",
        "at most 10",
    ),
    ("kubeai-bad-url", "kubeai-text", {"url": "h://x"}, "serve.url", "unsupported model url"),
    (
        "vllm-negative-replicas",
        "vllmserve-text",
        {"replicas": -1},
        "serve.replicas",
        "greater than or equal to 0",
    ),
    (
        "hf-negative-replicas",
        "huggingfaceserve",
        {"replicas": -3, "scaling": {}},
        "serve.replicas",
        "greater than or equal to 0",
    ),
    (
        "replicas-disagree",
        "vllmserve-pooling",
        {"replicas": 2, "scaling": {"replicas": 3}},
        "serve.replicas",
        "differ",
    ),
    (
        "bad-cpu",
        "vllmserve-text",
        {"resources": {"cpu": "two"}},
        "serve.resources.cpu",
        "Kubernetes quantity",
    ),
    (
        "bad-mem-unit",
        "vllmserve-text",
        {"resources": {"mem": "16GB"}},
        "serve.resources.mem",
        "Kubernetes quantity",
    ),
    (
        "negative-disk",
        "huggingfaceserve",
        {"resources": {"disk": "-1Gi"}},
        "serve.resources.disk",
        "quantity",
    ),
    ("fractional-gpu", "vllmserve-text", {"resources": {"gpu": "0.5"}}, "serve.resources.gpu", "GPUs"),
    (
        "unknown-resource",
        "vllmserve-text",
        {"resources": {"memory": "1Gi"}},
        "serve.resources.memory",
        "unknown",
    ),
    ("bad-storage-space", "vllmserve-text", {"storage_space": "lots"}, "serve.storage_space", "quantity"),
    ("bad-service-type", "vllmserve-text", {"service_type": "Ingress"}, "serve.service_type", "ClusterIP"),
    ("bad-service-name", "vllmserve-text", {"service_name": "My_Service"}, "serve.service_name", "DNS label"),
    (
        "bad-volume-type",
        "vllmserve-text",
        {"volumes": [{"name": "v", "volume_type": "hostpath", "mount_path": "/data"}]},
        "serve.volumes[0].volume_type",
        "persistent_volume_claim",
    ),
    (
        "volume-relative-mount",
        "vllmserve-text",
        {"volumes": [{"name": "v", "volume_type": "empty_dir", "mount_path": "data"}]},
        "serve.volumes[0].mount_path",
        "absolute path",
    ),
    (
        "volume-duplicate-name",
        "vllmserve-text",
        {
            "volumes": [
                {"name": "v", "volume_type": "empty_dir", "mount_path": "/a"},
                {"name": "v", "volume_type": "empty_dir", "mount_path": "/b"},
            ]
        },
        "serve.volumes[1].name",
        "duplicate",
    ),
    ("vllm-ollama-override", "vllmserve-text", {"url": "ollama://x"}, "serve.url", "not accepted here"),
    ("vllm-bad-dtype", "vllmserve-text", {"dtype": "int8"}, "serve.dtype", "BFLOAT16"),
    (
        "telemetry-not-bool",
        "vllmserve-text",
        {"enable_telemetry": "maybe"},
        "serve.enable_telemetry",
        "boolean",
    ),
    (
        "hf-bad-task",
        "huggingfaceserve",
        {"huggingface_task": "summarization"},
        "serve.huggingface_task",
        "fill_mask",
    ),
    ("hf-bad-backend", "huggingfaceserve", {"backend": "tgi"}, "serve.backend", "HUGGINGFACE"),
    (
        "hf-zero-max-length",
        "huggingfaceserve",
        {"max_length": 0},
        "serve.max_length",
        "greater than or equal to 1",
    ),
    (
        "hf-negative-log-len",
        "huggingfaceserve",
        {"max_log_len": -1},
        "serve.max_log_len",
        "greater than or equal",
    ),
    ("hf-url-is-path", "huggingfaceserve", {"url": "hf://o/n"}, "serve.url", "unknown field"),
    ("hf-bad-path", "huggingfaceserve", {"path": "ftp://x"}, "serve.path", "unsupported model url"),
    (
        "hf-no-telemetry",
        "huggingfaceserve",
        {"enable_telemetry": True},
        "serve.enable_telemetry",
        "unknown field",
    ),
]


@pytest.mark.parametrize(
    ("kind", "data", "param", "message"), [e[1:] for e in SERVE_ERRORS], ids=[e[0] for e in SERVE_ERRORS]
)
def test_serve_validation_errors(kind: str, data: dict[str, Any], param: str, message: str) -> None:
    err = rejected(parse_serve, kind, data)
    assert err.param == param
    assert message in err.message


REPLICAS = [
    ("replicas-fixed", {"replicas": 3}, {"replicas": 3, "min_replicas": 1, "autoscaling_disabled": True}),
    ("replicas-zero", {"replicas": 0}, {"replicas": 0, "min_replicas": 0, "autoscaling_disabled": True}),
    (
        "scaling-opts-in",
        {"scaling": {"max_replicas": 4}},
        {"replicas": 1, "max_replicas": 4, "autoscaling_disabled": False},
    ),
    (
        "replicas-fill-scaling",
        {"replicas": 2, "scaling": {"max_replicas": 4}},
        {"replicas": 2, "max_replicas": 4, "autoscaling_disabled": False},
    ),
    ("scaling-replicas-only", {"scaling": {"replicas": 2}}, {"replicas": 2}),
    ("both-agree", {"replicas": 2, "scaling": {"replicas": 2}}, {"replicas": 2}),
]


@pytest.mark.parametrize("kind", ["vllmserve-text", "huggingfaceserve"])
@pytest.mark.parametrize(("data", "expected"), [r[1:] for r in REPLICAS], ids=[r[0] for r in REPLICAS])
def test_deployment_replicas_and_scaling_agree(
    kind: str, data: dict[str, Any], expected: dict[str, Any]
) -> None:
    serve = parse_serve(kind, data)
    scaling = serve.scaling.model_dump()
    assert {k: scaling[k] for k in expected} == expected
    assert serve.replicas == serve.scaling.replicas


NORMALISED = [
    (
        "args-scalars",
        "vllmserve-text",
        {"args": ["--max-model-len", 4096, "--gpu-memory-utilization", 0.9]},
        "args",
        ["--max-model-len", "4096", "--gpu-memory-utilization", "0.9"],
    ),
    (
        "secrets-deduped",
        "kubeai-text",
        {"secrets": ["HF_TOKEN", "HF_TOKEN", "S3_KEY"]},
        "secrets",
        ["HF_TOKEN", "S3_KEY"],
    ),
    (
        "resources-numbers",
        "vllmserve-text",
        {"resources": {"cpu": 2, "mem": "16Gi", "gpu": 1, "disk": "500M"}},
        "resources",
        {"cpu": "2", "mem": "16Gi", "gpu": "1", "disk": "500M"},
    ),
    (
        "milli-cpu",
        "huggingfaceserve",
        {"resources": {"cpu": "500m"}},
        "resources",
        {"cpu": "500m", "mem": None, "gpu": None, "disk": None},
    ),
    ("service-type-case", "vllmserve-text", {"service_type": "nodeport"}, "service_type", "NodePort"),
    ("vllm-dtype", "vllmserve-text", {"dtype": "bfloat16"}, "dtype", "BFLOAT16"),
    ("hf-dtype", "huggingfaceserve", {"dtype": "half"}, "dtype", "HALF"),
    ("hf-backend-case", "huggingfaceserve", {"backend": "huggingface"}, "backend", "HUGGINGFACE"),
    ("hf-backend-vllm", "huggingfaceserve", {"backend": "Vllm"}, "backend", "VLLM"),
    (
        "hf-task-case",
        "huggingfaceserve",
        {"huggingface_task": "Text_Generation"},
        "huggingface_task",
        "text_generation",
    ),
    (
        "hf-tensor-names",
        "huggingfaceserve",
        {"tensor_input_names": ["input_ids", "attention_mask"]},
        "tensor_input_names",
        ["input_ids", "attention_mask"],
    ),
    ("hf-bools", "huggingfaceserve", {"trust_remote_code": False}, "trust_remote_code", False),
    ("kubeai-override", "kubeai-text", {"url": "hf://org/name:v2"}, "url", "hf://org/name:v2"),
    ("hf-override", "huggingfaceserve", {"path": "hf://org/name:v2"}, "path", "hf://org/name:v2"),
    (
        "volume",
        "vllmserve-text",
        {
            "volumes": [
                {
                    "name": "cache",
                    "volume_type": "persistent_volume_claim",
                    "mount_path": "/shared",
                    "spec": {"claim_name": "models"},
                }
            ]
        },
        "volumes",
        [
            {
                "name": "cache",
                "volume_type": "persistent_volume_claim",
                "mount_path": "/shared",
                "spec": {"claim_name": "models"},
            }
        ],
    ),
]


@pytest.mark.parametrize(
    ("kind", "data", "field", "expected"), [n[1:] for n in NORMALISED], ids=[n[0] for n in NORMALISED]
)
def test_values_are_normalised(kind: str, data: dict[str, Any], field: str, expected: Any) -> None:
    assert parse_serve(kind, data).model_dump()[field] == expected


def test_url_override_accessor_names_the_kinds_field() -> None:
    assert parse_serve("vllmserve-text", {"url": "hf://o/n:r"}).url_override() == "hf://o/n:r"
    assert parse_serve("huggingfaceserve", {"path": "/models/x"}).url_override() == "/models/x"
    assert parse_serve("kubeai-text", {}).url_override() is None

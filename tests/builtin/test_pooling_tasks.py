"""Which task the built-in engine serves: `--task` from each runtime kind's plan, and what `auto` and
`pooling` read from a model folder (config.json architectures, sentence-transformers modules.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelserve.builtin.loader import ModelSource, detect_task
from tests.engines.golden import launch, plan_for

MODEL = Path("/models/m")

PLAN_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("hf-sequence-classification", "huggingfaceserve", {"huggingface_task": "SEQUENCE_CLASSIFICATION"},
     "classify"),
    ("hf-token-classification", "huggingfaceserve", {"huggingface_task": "token_classification"},
     "token_classification"),
    ("hf-fill-mask", "huggingfaceserve", {"huggingface_task": "fill_mask"}, "fill_mask"),
    ("hf-text-embedding", "huggingfaceserve", {"huggingface_task": "text_embedding"}, "embed"),
    ("hf-text-generation", "huggingfaceserve", {"huggingface_task": "text_generation"}, "generate"),
    ("hf-text2text-generation", "huggingfaceserve", {"huggingface_task": "text2text_generation"}, "generate"),
    ("hf-task-unset", "huggingfaceserve", {}, "generate"),
    ("vllmserve-pooling", "vllmserve-pooling", {}, "pooling"),
    ("kubeai-text-embeddings", "kubeai-text", {"features": ["TextEmbedding"]}, "embed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "spec", "task"), [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES]
)
def test_engine_task_for_each_plan(tmp_path: Path, kind: str, spec: dict[str, Any], task: str) -> None:
    url_key = "path" if kind == "huggingfaceserve" else "url"
    plan = plan_for(kind, {url_key: "hf://o/m", "model_name": "t", **spec})
    argv = list(launch("builtin", plan, MODEL, tmp_path).argv)
    assert argv[argv.index("--task") + 1] == task


def test_return_probabilities_reaches_the_engine(tmp_path: Path) -> None:
    spec = {"path": "hf://o/m", "model_name": "t", "huggingface_task": "sequence_classification"}
    plain = launch("builtin", plan_for("huggingfaceserve", spec), MODEL, tmp_path).argv
    with_probs = plan_for("huggingfaceserve", {**spec, "return_probabilities": True})
    probs = launch("builtin", with_probs, MODEL, tmp_path).argv
    assert "--return-probabilities" not in plain and "--return-probabilities" in probs


def _folder(tmp_path: Path, archs: list[str], sentence_transformers: bool = False) -> ModelSource:
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"architectures": archs}))
    if sentence_transformers:
        (d / "modules.json").write_text("[]")
    return ModelSource(d, None)


# (id, architectures, has modules.json, task for auto, task for pooling)
FOLDER_CASES = [
    ("classifier", ["BertForSequenceClassification"], False, "classify", "classify"),
    ("cross-encoder-st", ["XLMRobertaForSequenceClassification"], True, "classify", "classify"),
    ("token-classifier", ["DistilBertForTokenClassification"], False, "token_classification",
     "token_classification"),
    ("masked-lm", ["BertForMaskedLM"], False, "fill_mask", "embed"),
    ("st-bi-encoder-from-mlm", ["BertForMaskedLM"], True, "embed", "embed"),
    ("st-bi-encoder", ["BertModel"], True, "embed", "embed"),
    ("bare-encoder", ["BertModel"], False, "embed", "embed"),
    ("causal-lm", ["LlamaForCausalLM"], False, "generate", "embed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("archs", "st", "auto", "pool"), [c[1:] for c in FOLDER_CASES], ids=[c[0] for c in FOLDER_CASES]
)
def test_task_read_from_the_model_folder(
    tmp_path: Path, archs: list[str], st: bool, auto: str, pool: str
) -> None:
    src = _folder(tmp_path, archs, st)
    assert detect_task(src, "auto") == auto
    assert detect_task(src, "pooling") == pool
    assert detect_task(src, "classify") == "classify"  # an explicit task is taken as given

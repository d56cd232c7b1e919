"""Spec files: every example loads; errors name the file and the field."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from modelserve.errors import InvalidRequest
from modelserve.spec import KINDS, SpecFile, load_spec_file, parse_function, parse_serve

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_one_example_per_kind() -> None:
    kinds = sorted(load_spec_file(p).kind for p in EXAMPLE_FILES)
    assert kinds == sorted(KINDS)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_example_loads_and_validates(path: Path) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        spec_file = load_spec_file(path)
    assert not [str(w.message) for w in record], "examples use no deprecated spelling"
    assert isinstance(spec_file, SpecFile)
    assert path.stem == spec_file.kind
    fn = spec_file.function_spec()
    assert fn.kind == spec_file.kind and fn.model_url()
    serve = spec_file.serve_spec()
    assert serve.scaling.replicas >= 0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


BAD_FILES = [
    ("unknown-kind", "kind: kubeai\nname: x\nspec: {url: hf://o/n}\n", "kind", "kubeai-text"),
    ("missing-spec", "kind: kubeai-text\nname: x\n", "spec", "required"),
    ("bad-name", "kind: kubeai-text\nname: 'has space'\nspec: {url: hf://o/n}\n", "name", "pattern"),
    (
        "unknown-top-level",
        "kind: kubeai-text\nname: x\nspec: {url: hf://o/n}\nrun: {}\n",
        "run",
        "unknown field",
    ),
    (
        "bad-function-field",
        "kind: vllmserve-text\nname: x\nspec: {url: 'h://x'}\n",
        "spec.url",
        "unsupported",
    ),
    (
        "bad-serve-field",
        "kind: vllmserve-text\nname: x\nspec: {url: hf://o/n}\nserve: {replicas: -1}\n",
        "serve.replicas",
        "greater than or equal to 0",
    ),
    (
        "nested-serve-field",
        "kind: kubeai-text\nname: x\nspec: {url: hf://o/n}\nserve: {scaling: {replics: 1}}\n",
        "serve.scaling.replics",
        "unknown field",
    ),
    (
        "bad-override",
        "kind: kubeai-text\nname: x\nspec: {url: hf://o/n}\nserve: {url: hf://o/other}\n",
        "serve.url",
        "must be subpath of function url",
    ),
    (
        "bad-hf-override",
        "kind: huggingfaceserve\nname: x\nspec: {path: hf://o/n}\nserve: {path: /models/x}\n",
        "serve.path",
        "must be subpath of function url",
    ),
    ("not-a-mapping", "- kind: kubeai-text\n", None, "a mapping"),
    ("invalid-yaml", "kind: [unclosed\n", None, "invalid YAML"),
]


@pytest.mark.parametrize(
    ("text", "param", "message"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_bad_spec_file_names_file_and_field(
    tmp_path: Path, text: str, param: str | None, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidRequest) as info:
        load_spec_file(path)
    assert info.value.message.startswith(f"{path}: ")
    assert info.value.param == param
    assert message in info.value.message


def test_missing_file_is_an_invalid_request(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="cannot read spec file"):
        load_spec_file(tmp_path / "nope.yaml")


def test_spec_file_keeps_what_the_user_wrote(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "kind: kubeai-text\nname: chat\nproject: demo\nspec:\n  url: hf://o/n\n"
        "serve:\n  envs: [{name: A, value: 1}]\n",
    )
    spec_file = load_spec_file(path)
    assert (spec_file.project, spec_file.name) == ("demo", "chat")
    assert spec_file.serve == {"envs": [{"name": "A", "value": 1}]}
    assert spec_file.serve_spec().envs == {"A": "1"}
    assert parse_function(spec_file.kind, spec_file.spec).model_url() == "hf://o/n"


def test_empty_serve_section_is_allowed(tmp_path: Path) -> None:
    spec_file = load_spec_file(
        _write(tmp_path, "kind: vllmserve-pooling\nname: emb\nspec: {url: /models/e5}\nserve:\n")
    )
    assert spec_file.serve == {}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_stored_specs_parse_back_unchanged(path: Path) -> None:
    """The API stores `model_dump(mode="json", exclude_none=True)` and parses it again later."""
    spec_file = load_spec_file(path)
    fn = spec_file.function_spec()
    serve = spec_file.serve_spec()
    fn_again = parse_function(spec_file.kind, fn.model_dump(mode="json", exclude_none=True))
    serve_again = parse_serve(spec_file.kind, serve.model_dump(mode="json", exclude_none=True))
    assert (fn_again, serve_again) == (fn, serve)

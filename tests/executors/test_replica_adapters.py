"""ReplicaAdapters' record of what a run's replicas must serve, before any replica is ready."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from modelserve.engines import ENGINES, ModelArtifact
from modelserve.executors.local.adapters import ReplicaAdapters
from modelserve.settings import Settings
from tests.engines.golden import plan_for


def test_lora_stays_enabled_after_the_last_adapter_is_removed(tmp_path: Path) -> None:
    """vLLM replicas started after the run's last adapter went keep --enable-lora, so adapters can
    still be added at run time; a run that never had one starts without it."""

    def no_call(port: int):  # type: ignore[no-untyped-def]
        raise AssertionError("no replica is ready, so no engine call is made")

    async def scenario() -> list[list[str]]:
        async with httpx.AsyncClient() as client:
            adapters = ReplicaAdapters(client)
            plan = plan_for("vllmserve-text", {"url": "hf://o/m", "model_name": "t"})
            settings = Settings(data_dir=tmp_path)

            def argv() -> list[str]:
                artifact = ModelArtifact(tmp_path, dict(adapters.current), runtime_lora=adapters.runtime_lora)
                return list(ENGINES["vllm"].launch(plan, artifact, port=8000, settings=settings).argv)

            seen = [argv()]
            adapters.set_initial({})
            seen.append(argv())
            await adapters.add("sql", tmp_path / "sql", lambda: [], no_call)
            seen.append(argv())
            assert await adapters.remove("sql", lambda: [], no_call) == []
            seen.append(argv())
            return seen

    fresh, no_spec_adapters, with_sql, after_removal = asyncio.run(scenario())
    assert "--enable-lora" not in fresh and "--enable-lora" not in no_spec_adapters
    assert with_sql[with_sql.index("--enable-lora"):][:2] == ["--enable-lora", "--lora-modules"]
    assert "--enable-lora" in after_removal and "--lora-modules" not in after_removal

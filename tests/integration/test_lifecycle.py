"""Stop, resume, delete and a control-plane restart, checked against the process table."""

from __future__ import annotations

import time
from pathlib import Path

import openai

from tests.integration.harness import ServerProcess, free_port, run_processes


def wait_until(predicate, timeout: float = 60.0, every: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")


def chat(run) -> str:  # type: ignore[no-untyped-def]
    client = openai.OpenAI(base_url=run.status.openai["baseUrl"], api_key="x")
    out = client.chat.completions.create(
        model=run.status.openai["model"], messages=[{"role": "user", "content": "hi"}], max_tokens=3, temperature=0
    )
    return out.choices[0].message.content or ""


def test_stop_resume_delete_leave_no_process(server: ServerProcess, tiny_llama: Path) -> None:
    import modelserve as ms

    project = ms.Client(base_url=server.url).get_or_create_project("lifecycle")
    fn = project.new_function("tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny")
    run = fn.run("serve", wait=True, timeout=180)
    assert run.status.state == "RUNNING", run.status.message
    first_answer = chat(run)
    assert run_processes(run.id)

    run.stop()
    wait_until(lambda: run.refresh().status.state == "STOPPED")
    assert run_processes(run.id) == []

    run.resume()
    wait_until(lambda: run.refresh().status.state == "RUNNING", timeout=120)
    assert chat(run) == first_answer
    states = [e["state"] for e in run.events()]
    assert "STOP" in states and "STOPPED" in states and "RESUME" in states

    project.delete_run(run.id)
    wait_until(lambda: run.refresh().status.state == "DELETED")
    assert run_processes(run.id) == []


def test_engine_startup_failure_goes_to_error_with_engine_message(server: ServerProcess, tmp_path: Path) -> None:
    import modelserve as ms

    empty = tmp_path / "not-a-model"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    project = ms.Client(base_url=server.url).get_or_create_project("failing")
    fn = project.new_function("broken", kind="vllmserve-text", url=str(empty), model_name="broken")
    run = fn.run("serve", wait=True, timeout=180)
    assert run.status.state == "ERROR"
    assert "before it was ready" in run.status.message
    assert run_processes(run.id) == []


def test_control_plane_restart_keeps_serving(tmp_path: Path, tiny_llama: Path) -> None:
    import modelserve as ms

    srv = ServerProcess(tmp_path, free_port()).start()
    try:
        project = ms.Client(base_url=srv.url).get_or_create_project("restart")
        fn = project.new_function("tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny")
        run = fn.run("serve", wait=True, timeout=180)
        assert run.status.state == "RUNNING", run.status.message
        answer = chat(run)
        pids_before = {p.pid for p in run_processes(run.id)}

        srv.stop()
        assert {p.pid for p in run_processes(run.id)} == pids_before  # replicas outlive the server
        srv.start()

        run = project.get_run(run.id)
        wait_until(lambda: run.refresh().status.state == "RUNNING")
        assert wait_until(lambda: _try_chat(run)) == answer
        assert {p.pid for p in run_processes(run.id)} == pids_before  # re-adopted, not restarted
        assert any(e["reason"] == "ReplicaAdopted" for e in run.events())
        run.stop()
        wait_until(lambda: run.refresh().status.state == "STOPPED")
        assert run_processes(run.id) == []
    finally:
        srv.stop()


def _try_chat(run) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return chat(run)
    except openai.APIStatusError:
        return None

"""The GUI's one worker pattern (`gui.workers`): a job's progress, messages, result and failure
reach the UI thread through its runner; a cancelled job's result is dropped unless the job keeps
it; `before_start` sees the job before it can emit anything."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QThread  # noqa: E402

from generators.core.errors import UserError  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

WAIT_MS = 20000


def run(qtbot, runner: JobRunner, function, **options) -> dict:
    """Start `function` and wait for it; what each callback got, and whether each ran on the UI thread."""
    seen: dict = {"progress": [], "messages": [], "on_ui_thread": set()}
    ui = QThread.currentThread()

    def here() -> None:
        seen["on_ui_thread"].add(QThread.currentThread() is ui)

    def keep(key):
        return lambda value: (here(), seen.__setitem__(key, value))

    def add(key):
        return lambda *values: (here(), seen[key].append(values if len(values) > 1 else values[0]))

    runner.start(
        function,
        on_success=keep("result"),
        on_failure=keep("failure"),
        on_progress=add("progress"),
        on_message=add("messages"),
        on_done=lambda: (here(), seen.__setitem__("done", True)),
        **options,
    )
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)
    return seen


def test_progress_messages_and_the_result_arrive_on_the_ui_thread_in_order(qtbot):
    runner = JobRunner(threads=1)
    early = []

    def work(job):
        for i in range(3):
            job.report(i + 1, 3)
            job.send(("step", i))
        return "made"

    seen = run(qtbot, runner, work, before_start=lambda job: early.append(job.cancelled))
    assert early == [False]  # called with the job before it ran
    assert seen["progress"] == [(1, 3), (2, 3), (3, 3)]
    assert seen["messages"] == [("step", 0), ("step", 1), ("step", 2)]
    assert seen["result"] == "made" and seen["done"] and "failure" not in seen
    assert seen["on_ui_thread"] == {True}
    runner.shutdown()


def test_a_cancelled_job_drops_its_result_unless_it_keeps_it(qtbot):
    runner = JobRunner(threads=1)
    for keep in (False, True):
        started, release = threading.Event(), threading.Event()

        def work(job):
            started.set()
            release.wait(10)
            return "finished anyway"

        job = runner.start(work, keep_result=keep)
        assert started.wait(10)
        job.cancel()
        release.set()
        qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)
        assert job.delivers is keep
    seen = run(qtbot, runner, lambda job: (job.cancel(), "late")[1], keep_result=True)
    assert seen["result"] == "late"
    seen = run(qtbot, runner, lambda job: (job.cancel(), "late")[1])
    assert "result" not in seen and seen["done"]
    runner.shutdown()


def test_a_user_error_fails_the_job_with_its_line(qtbot):
    runner = JobRunner(threads=1)

    def work(job):
        raise UserError("no data there")

    seen = run(qtbot, runner, work)
    assert seen["failure"] == "no data there" and "result" not in seen and seen["done"]
    runner.shutdown()


def test_no_garbage_collection_runs_on_a_worker_thread(qtbot):
    """A collection on a worker could free a UI-thread Qt object there and crash the app: while a
    job runs automatic collection is off, and the UI thread collects when the last job ends."""
    import gc

    runner = JobRunner()
    assert gc.isenabled()
    collected_on = []

    def watch(phase, info):
        if phase == "start":
            collected_on.append(threading.current_thread() is threading.main_thread())

    def work(job):
        assert not gc.isenabled()  # paused for the job
        junk = []
        junk.append(junk)  # a cycle: only the collector frees it
        for _ in range(5000):  # enough allocations to trigger an automatic collection, were it on
            [object() for _ in range(20)]
        return "done"

    gc.callbacks.append(watch)
    try:
        seen = run(qtbot, runner, work)
    finally:
        gc.callbacks.remove(watch)
    assert seen["result"] == "done" and gc.isenabled()
    assert collected_on and all(collected_on)  # every collection ran on the UI thread

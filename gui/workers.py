"""Slow work off the UI thread: a QRunnable whose progress, result and errors come back as signals.

A job runs `function(job)`; the function may call `job.report(done, total)` and should stop
early when `job.cancelled` is true. A `UserError` fails the job with its one clear line; any
other exception fails it too, with its type, and is printed to stderr, so the app keeps running
whatever happens in a worker. `JobRunner` relays every signal to callbacks on the UI thread.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from generators.core.errors import UserError


class JobSignals(QObject):
    # Each carries the job, so one receiver on the UI thread can serve every job.
    progress = Signal(object, int, int)  # job, done, total
    succeeded = Signal(object, object)  # job, result
    failed = Signal(object, str)  # job, message
    finished = Signal(object)  # job; always last


class Job(QRunnable):
    """One unit of background work."""

    def __init__(self, function: Callable[["Job"], Any]):
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (JobRunner keeps it until `finished`)
        self.function = function
        self.signals = JobSignals()
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def report(self, done: int, total: int) -> None:
        self.signals.progress.emit(self, done, total)

    def run(self) -> None:
        try:
            result = self.function(self)
            if not self.cancelled:
                self.signals.succeeded.emit(self, result)
        except UserError as error:
            self.signals.failed.emit(self, str(error))
        except Exception as error:  # a bug, not the user's fault: report it and keep running
            traceback.print_exc()
            self.signals.failed.emit(self, f"unexpected error: {type(error).__name__}: {error}")
        finally:
            self.signals.finished.emit(self)


@dataclass
class _Callbacks:
    success: Callable[[Any], None] | None
    failure: Callable[[str], None] | None
    progress: Callable[[int, int], None] | None
    done: Callable[[], None] | None


class JobRunner(QObject):
    """Starts jobs on its own small thread pool, keeps them alive, and calls back on the UI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._jobs: dict[Job, _Callbacks] = {}
        # Finished jobs are kept until the pool is idle: a worker thread may still be
        # unwinding out of Job.run() when the UI thread hears `finished`.
        self._retired: list[Job] = []

    @property
    def busy(self) -> bool:
        """True until every started job has finished and its callbacks have run."""
        return bool(self._jobs)

    def start(self, function: Callable[[Job], Any], on_success=None, on_failure=None, on_progress=None, on_done=None) -> Job:
        """Run `function(job)` on the pool; the callbacks run on the UI thread."""
        if self.pool.activeThreadCount() == 0:
            self._retired.clear()
        job = Job(function)
        # The runner lives on the UI thread, so these queued connections deliver there.
        job.signals.succeeded.connect(self._succeeded)
        job.signals.failed.connect(self._failed)
        job.signals.progress.connect(self._progress)
        job.signals.finished.connect(self._finished)
        was_busy = self.busy
        self._jobs[job] = _Callbacks(on_success, on_failure, on_progress, on_done)
        if not was_busy:
            self.busy_changed.emit(True)
        self.pool.start(job)
        return job

    @Slot(object, object)
    def _succeeded(self, job: Job, result: Any) -> None:
        callbacks = self._jobs.get(job)
        if callbacks and callbacks.success and not job.cancelled:
            callbacks.success(result)

    @Slot(object, str)
    def _failed(self, job: Job, message: str) -> None:
        callbacks = self._jobs.get(job)
        if callbacks and callbacks.failure:
            callbacks.failure(message)

    @Slot(object, int, int)
    def _progress(self, job: Job, done: int, total: int) -> None:
        callbacks = self._jobs.get(job)
        if callbacks and callbacks.progress:
            callbacks.progress(done, total)

    @Slot(object)
    def _finished(self, job: Job) -> None:
        callbacks = self._jobs.pop(job, None)
        if callbacks is None:
            return
        self._retired.append(job)
        if callbacks.done:
            callbacks.done()
        if not self._jobs:
            self.busy_changed.emit(False)

    def cancel_all(self) -> None:
        for job in self._jobs:
            job.cancel()

    def shutdown(self, msecs: int = 30000) -> None:
        """Cancel every job and wait for the pool (on close); no callback runs afterwards."""
        self.cancel_all()
        self.pool.waitForDone(msecs)
        self._retired.extend(self._jobs)
        self._jobs.clear()

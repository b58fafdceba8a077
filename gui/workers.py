"""Slow work off the UI thread: a QRunnable whose progress, result and errors come back as signals.

A job runs `function(job)`; the function may call `job.report(done, total)`, send any other
news with `job.send(message)` (a training run's epoch records and log lines), and should stop
early when `job.cancelled` is true. A `UserError` fails the job with its one clear line; any
other exception fails it too, with its type, and is printed to stderr, so the app keeps running
whatever happens in a worker. `JobRunner` relays every signal to callbacks on the UI thread.
This is the one way the GUI runs work off the UI thread.

Python's cyclic garbage collector must not run on a worker thread: it may free the last
reference to a Qt object of the UI thread there (a closed dialog's widgets), which crashes the
process (a segfault seen in the suite, "Garbage-collecting" in a worker that loaded a model).
So while any job runs, automatic collection is paused (`_collection_paused`), and the UI thread
collects instead: the young generations every COLLECT_MS while jobs run, everything when the
last job of a runner ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from generators.core.errors import UserError

COLLECT_MS = 2000  # the UI thread collects young garbage this often while jobs run
_pause_lock = threading.Lock()
_pausing_jobs = 0  # jobs running now, across every runner
_was_enabled = True  # whether automatic collection was on before the first job paused it


@contextlib.contextmanager
def _collection_paused():
    """Automatic garbage collection off while any job runs (it is global: counted across jobs)."""
    global _pausing_jobs, _was_enabled
    with _pause_lock:
        if _pausing_jobs == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing_jobs += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pausing_jobs -= 1
            if _pausing_jobs == 0 and _was_enabled:
                gc.enable()


class JobSignals(QObject):
    # Each carries the job, so one receiver on the UI thread can serve every job.
    progress = Signal(object, int, int)  # job, done, total
    message = Signal(object, object)  # job, anything the function sends (`Job.send`)
    succeeded = Signal(object, object)  # job, result
    failed = Signal(object, str)  # job, message
    finished = Signal(object)  # job; always last


class Job(QRunnable):
    """One unit of background work."""

    def __init__(self, function: Callable[[Job], Any], keep_result: bool = False):
        """`keep_result`: deliver the result even after `cancel()`, for work that cancelling
        only cuts short and whose result still counts if it came anyway (a training run that
        had already finished when Cancel was pressed). Otherwise a cancelled job's result is
        dropped as stale."""
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (JobRunner keeps it until `finished`)
        self.function = function
        self.keep_result = keep_result
        self.signals = JobSignals()
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def report(self, done: int, total: int) -> None:
        self.signals.progress.emit(self, done, total)

    def send(self, message: Any) -> None:
        """Pass `message` to the runner's `on_message` callback on the UI thread."""
        self.signals.message.emit(self, message)

    @property
    def delivers(self) -> bool:
        """Whether a result, if one comes, reaches `on_success`."""
        return self.keep_result or not self.cancelled

    def run(self) -> None:
        with _collection_paused():
            self._run()

    def _run(self) -> None:
        try:
            result = self.function(self)
            if self.delivers:
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
    message: Callable[[Any], None] | None = None


class JobRunner(QObject):
    """Starts jobs on its own small thread pool, keeps them alive, and calls back on the UI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._collector = QTimer(self)  # the UI thread collects while jobs keep workers' GC paused
        self._collector.setInterval(COLLECT_MS)
        self._collector.timeout.connect(lambda: gc.collect(1))
        self._jobs: dict[Job, _Callbacks] = {}
        # Finished jobs are kept until the pool is idle: a worker thread may still be
        # unwinding out of Job.run() when the UI thread hears `finished`.
        self._retired: list[Job] = []

    @property
    def busy(self) -> bool:
        """True until every started job has finished and its callbacks have run."""
        return bool(self._jobs)

    def start(
        self,
        function: Callable[[Job], Any],
        on_success=None,
        on_failure=None,
        on_progress=None,
        on_done=None,
        on_message=None,
        keep_result: bool = False,
        before_start: Callable[[Job], None] | None = None,
    ) -> Job:
        """Run `function(job)` on the pool; the callbacks run on the UI thread. `before_start(job)`
        runs here, before the job can emit anything (to connect more receivers to its signals);
        `keep_result`: see `Job`."""
        if self.pool.activeThreadCount() == 0:
            self._retired.clear()
        job = Job(function, keep_result)
        # The runner lives on the UI thread, so these queued connections deliver there.
        job.signals.succeeded.connect(self._succeeded)
        job.signals.failed.connect(self._failed)
        job.signals.progress.connect(self._progress)
        job.signals.message.connect(self._message)
        job.signals.finished.connect(self._finished)
        was_busy = self.busy
        self._jobs[job] = _Callbacks(on_success, on_failure, on_progress, on_done, on_message)
        if before_start is not None:
            before_start(job)
        if not was_busy:
            self.busy_changed.emit(True)
            self._collector.start()
        self.pool.start(job)
        return job

    @Slot(object, object)
    def _succeeded(self, job: Job, result: Any) -> None:
        callbacks = self._jobs.get(job)
        if callbacks and callbacks.success and job.delivers:
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

    @Slot(object, object)
    def _message(self, job: Job, message: Any) -> None:
        callbacks = self._jobs.get(job)
        if callbacks and callbacks.message:
            callbacks.message(message)

    @Slot(object)
    def _finished(self, job: Job) -> None:
        callbacks = self._jobs.pop(job, None)
        if callbacks is None:
            return
        self._retired.append(job)
        if callbacks.done:
            callbacks.done()
        if not self._jobs:
            self._collector.stop()
            gc.collect()  # here, on the UI thread, what the paused collector left
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

"""Grading workers on a Dask distributed cluster: a local one, or a real one at a scheduler address.

Each task is ``cs231n.grading.coordinator.parallel.grade_submission`` for one student: it runs nbgrader on the
worker, in the course folder at the same path (a shared file system) or at ``worker_course``, and
writes straight into the gradebook (PostgreSQL for a real cluster). Workers need the course files
and the same Python environment, nothing else.
"""

from collections.abc import Callable, Iterable, Iterator

from .report import SubmissionResult


class DaskPool:
    """Run grading tasks on Dask workers.

    Inputs:
    - scheduler: address of a running scheduler ("tcp://host:8786"); None = start a local cluster
    - workers: processes of the local cluster (one grading task at a time each)
    - worker_course: the course folder as the workers see it (default: the same path)
    """

    def __init__(self, scheduler: str | None = None, workers: int = 2, worker_course: str | None = None):
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler is None:
            # non-daemonic workers may start processes of their own: the fork server of procs.run_nbgrader
            with dask.config.set({"distributed.worker.daemon": False}):
                self.cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1,
                                            processes=True, dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler, timeout=10)
        info = self.client.scheduler_info()
        self.workers = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or workers
        self.worker_course = worker_course

    def map_unordered(self, fn: Callable, jobs: Iterable[tuple]) -> Iterator[SubmissionResult]:
        """``fn(*job)`` on the workers, results as they finish; at most two tasks per worker are in
        flight, so shipped submissions are read only shortly before a worker needs them."""
        from distributed import as_completed

        jobs = iter(jobs)
        count = 0
        self._futures: list = []

        def submit(job: tuple):
            nonlocal count
            if self.worker_course:
                job = (self.worker_course, *job[1:])
            count += 1
            # pure=False: grading has side effects; a unique key per submission
            future = self.client.submit(fn, *job, pure=False, key=f"grade-{job[2]}-{count}")
            self._futures.append(future)
            return future

        pending = as_completed([submit(job) for _, job in zip(range(2 * self.workers), jobs, strict=False)])
        for future in pending:
            yield future.result()
            if (job := next(jobs, None)) is not None:
                pending.add(submit(job))

    def stop(self) -> None:
        """Interrupted: cancel every task still pending or running on the cluster."""
        futures = getattr(self, "_futures", [])
        if futures:
            self.client.cancel(futures, force=True)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

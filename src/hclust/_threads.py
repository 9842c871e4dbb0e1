"""Threads for numba's parallel kernels: limits restored when the work ends, and a
chooser that runs a kernel's serial or parallel twin, whichever is faster now."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from ._validation import check_n_jobs


@contextlib.contextmanager
def forced_twins(parallel: bool | None) -> Iterator[None]:
    """Run every chooser's parallel (True) or serial (False) twin, whatever the timings
    (for tests that compare the two)."""
    previous = ParallelChooser.forced
    ParallelChooser.forced = parallel
    try:
        yield
    finally:
        ParallelChooser.forced = previous


#: Spin iterations of an idle OpenMP worker before it sleeps (libgomp's
#: GOMP_SPINCOUNT), when the user set neither it nor OMP_WAIT_POLICY. libgomp's
#: default spins up to 300 000 times after each parallel region: on a busy
#: machine the spinning worker takes the core that the main thread, or another
#: process, needs (measured: 8 000 rows, average linkage, one core busy: 1.8-2.7 s
#: against 0.9-1.2 s with 10 000; on an idle machine the same time). Workers
#: still catch the next region of a merge loop without sleeping most of the time.
_SPIN_COUNT = "10000"


def _quiet_openmp_workers() -> None:
    """Set GOMP_SPINCOUNT before numba starts its OpenMP workers (libgomp reads it then)."""
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = _SPIN_COUNT


@contextlib.contextmanager
def numba_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the body with numba limited to ``n_jobs`` threads; yields the count used."""
    import numba

    _quiet_openmp_workers()
    count = check_n_jobs(n_jobs)
    previous = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(previous)


#: What the choosers learnt, by kernel: (serial rate, parallel rate) in work
#: per second, and the seconds spent in the kernel and lost to probes so far.
#: A later run of the same kernel in this process starts from it (and keeps
#: probing), so short runs do not pay for the first probes again, and runs
#: too short to reach the warmup on their own reach it together.
_LEARNT: dict[str, tuple[float | None, float | None, float, float]] = {}

#: A parallel call whose rate falls below this share of the parallel twin's
#: running rate replaces it instead of being averaged in: a core taken by
#: another process makes the parallel twin many times slower at once, and a
#: second call at the stale rate would cost as much again. (The serial twin
#: cannot collapse that way: its rate is averaged.)
_DROP = 1.0 / 3.0


class ParallelChooser:
    """Chooses, call by call, between a resumable kernel's serial and parallel twins.

    A parallel region only pays while every thread gets a core: with another
    process busy on one core, a kernel that opens a region per merge waits at
    each barrier for a thread the scheduler has parked, and can run many
    times slower than its serial twin (measured: 10-100x per merge at 5 000
    rows on a loaded machine). So the driver times every call, keeps a
    running rate (work per second) for each twin, runs the faster one, and
    now and then probes the other with a short call. Calls are sized by the
    measured rate of the twin that runs them (``target`` seconds, a quarter
    of that for a probe). Probing is rationed by time: the time probes lose
    against the better twin stays under ``loss_share`` of the time spent so
    far, and the first probe of a twin nothing is known about waits until
    ``warmup`` seconds have been spent (both counted over every run of the
    kernel in this process); between probes the interval doubles
    (up to ``longest_interval`` calls) while the probed twin keeps losing.
    Both twins give the same result: the choice changes only the time.

    Usage::

        chooser = ParallelChooser("generic", threads, first_work=1e6)
        while not finished:
            parallel, work = chooser.next()
            ... run the serial or parallel twin on about ``work`` units ...
            chooser.record(parallel, work_done, seconds)
    """

    PROBE_SHARE = 0.25
    #: Tests set this to True (or False) to run only the parallel (serial) twins.
    forced: bool | None = None

    def __init__(
        self,
        name: str,
        threads: int,
        enabled: bool = True,
        first_work: float = 1e6,
        target: float = 0.01,
        longest_interval: int = 64,
        loss_share: float = 0.05,
        warmup: float = 0.1,
    ) -> None:
        self.name = name
        self.active = enabled and threads > 1
        self.first_work = first_work
        self.target = target
        self.longest_interval = longest_interval
        self.loss_share = loss_share
        self.warmup = warmup
        serial, parallel, elapsed, lost = _LEARNT.get(name, (None, None, 0.0, 0.0))
        self.rate: dict[bool, float | None] = {False: serial, True: parallel}
        self.calls = 0
        self.interval = 2
        self.next_probe = 2
        self.probing = False
        self.elapsed = elapsed
        self.lost = lost

    def best(self) -> bool:
        """The twin with the higher known rate (serial while the parallel one is unknown)."""
        serial, parallel = self.rate[False], self.rate[True]
        if serial is None:
            return False
        return parallel is not None and parallel > serial

    def next(self) -> tuple[bool, float]:
        """(use the parallel twin?, work units for this call)."""
        if not self.active:
            return False, self._work(False, 1.0)
        self.calls += 1
        if self.forced is not None:
            self.probing = False
            return self.forced, self._work(self.forced, 1.0)
        best = self.best()
        other_known = self.rate[not best] is not None
        self.probing = (
            self.rate[best] is not None
            and self.calls >= self.next_probe
            and self.lost <= self.loss_share * self.elapsed
            and (other_known or self.elapsed >= self.warmup)
        )
        if self.probing:
            return (not best), self._work(not best, self.PROBE_SHARE)
        return best, self._work(best, 1.0)

    def _work(self, parallel: bool, share: float) -> float:
        rate = self.rate[parallel]
        if rate is None:
            # an unknown twin: the caller's guess, or a sixteenth of a call at the
            # other's rate (a first parallel probe on a busy machine can run 10-30x
            # slower than the serial twin: measured 99 ms for a quarter call of 10 ms)
            known = self.rate[not parallel]
            if known is None:
                return share * self.first_work
            return share * 0.25 * known * self.target
        return share * rate * self.target

    def record(self, parallel: bool, work: float, seconds: float) -> None:
        """Account a call: ``work`` units done in ``seconds``."""
        self.elapsed += seconds
        if work <= 0:
            return
        rate = work / max(seconds, 1e-7)
        before = self.best()
        before_rate = self.rate[before]
        if self.probing and parallel != before and before_rate:
            self.lost += max(0.0, seconds - work / before_rate)
        previous = self.rate[parallel]
        if previous is None or (parallel and rate < _DROP * previous):
            self.rate[parallel] = rate
        else:
            self.rate[parallel] = 0.5 * (previous + rate)
        if self.probing:
            # a probe that confirms the choice: probe less often; one that
            # changes it: probe the loser again soon
            self.interval = min(2 * self.interval, self.longest_interval) if self.best() == before else 2
            self.next_probe = self.calls + self.interval
        if self.active and self.forced is None:
            _LEARNT[self.name] = (self.rate[False], self.rate[True], self.elapsed, self.lost)

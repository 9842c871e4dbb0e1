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


def _own_running() -> int:
    """This process's threads that are running or runnable now."""
    own = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as file:
                stat = file.read()
        except OSError:  # the thread ended meanwhile
            continue
        # "pid (name) S ...": the state follows the name, which may hold spaces
        close = stat.rindex(b")")
        own += stat[close + 2 : close + 3] == b"R"
    return own


def _others_running() -> int | None:
    """Threads running or runnable on this machine now, other than this process's
    own (Linux's /proc; None where it cannot be read)."""
    try:
        for _ in range(3):
            # our numba workers spin a little after a parallel region, then
            # sleep: the machine's count is only comparable with our own count
            # when that did not change around the read
            before = _own_running()
            with open("/proc/loadavg", "rb") as file:
                running = int(file.read().split()[3].split(b"/")[0])
            if _own_running() == before:
                return max(0, running - max(before, 1))
    except (OSError, ValueError, IndexError):
        return None
    return None


def free_cores() -> int | None:
    """Cores of this process's CPU set that no other thread wants now (None: unknown).

    libgomp's dynamic mode sizes its teams from the load average in the same
    spirit; the run-queue count of /proc/loadavg is the instant figure (10 us
    to read): with one other process spinning on a two-core machine, a team of
    two waits at each barrier for the thread that shares a core with it.
    """
    others = _others_running()
    if others is None:
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - others)


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
    #: Whether a parallel call first checks that the machine has a free core for
    #: each thread (``free_cores``): where it has not, the serial twin runs
    #: instead, or the parallel one on as many threads as there are free cores.
    LOAD_AWARE = os.environ.get("HCLUST_LOAD_AWARE", "1") != "0"
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
        self.threads = threads
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
        parallel = (not best) if self.probing else best
        if (best or parallel) and self.LOAD_AWARE:
            free = free_cores()
            if free is not None and free < 2:
                # no core for a second thread now: a full call of the serial twin
                # (not a probe of it: what was learnt of both stays for later)
                self.probing = False
                return False, self._work(False, 1.0)
            if parallel:
                import numba

                numba.set_num_threads(self.threads if free is None else min(self.threads, free))
        return parallel, self._work(parallel, self.PROBE_SHARE if self.probing else 1.0)

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

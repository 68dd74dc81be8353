"""The budget of one engine command: wall time, engine steps without a wait state, script memory and sizes.

Every command on a case (start, complete, timer fire, retry, pause...) runs in
``running(limits)``. The runtime counts each engine task SpiffWorkflow runs
(gateways, scripts, service tasks, events: everything that is not a wait
state) and checks the wall-clock deadline after each; while a BPMN script or
expression runs, a line tracer (``sys.settrace``, this thread only) checks the
deadline and the process's resident memory, so ``while True: pass`` ends too.
The sandbox's operator guards (``sandbox``) refuse single operations whose
result would be huge (``10**10**8``, ``'a' * 2 * 10**9``) before they start,
with the limits of the active budget.

Over budget, ``BudgetExceeded`` is raised. It derives from ``BaseException``
so that neither SpiffWorkflow (which turns an ``Exception`` of a task into an
ERROR state) nor a script's ``except Exception`` catches it (bare ``except:`` is
refused at compile time); once a budget is exceeded, every further check raises
again. The service layer rolls the command's
transaction back and puts the case in incident with the reason.

The limits are data (``data/budget.toml``); docs/budgets.md explains them and
bench/budget.py measures what the budget costs per case.
"""

from __future__ import annotations

import contextlib
import os
import time
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterator

SCRIPT_FILE = "<bpmn>"           # the file name BPMN code is compiled under (tracebacks name it)


@dataclass(frozen=True)
class Limits:
    """What one command may use."""

    seconds: float = 10.0        # wall time of the whole command
    steps: int = 5_000           # engine tasks run without reaching a wait state (user task, timer, end)
    memory_mb: int = 512         # growth of the process's resident memory while a script runs
    sequence: int = 1_000_000    # longest str, bytes, list or range one operation of a script may make
    int_bits: int = 100_000      # widest integer ``**``, ``*`` and ``<<`` may produce (about 30,000 digits)


DEFAULT_LIMITS = Limits()


def load_limits(path: Path) -> Limits:
    """Read ``[budget]`` of a TOML file; unknown keys are refused, missing ones keep their defaults."""
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("budget", {})
    known = {f.name: f.type for f in fields(Limits)}
    unknown = set(table) - set(known)
    if unknown:
        raise ValueError(f"{path}: unknown budget keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{path}: budget {name} must be a positive number, not {value!r}")
        values[name] = float(value) if name == "seconds" else int(value)
    return Limits(**values)


class BudgetExceeded(BaseException):
    """A command went over its budget; ``kind`` is time, steps, memory or size, ``reason`` says what happened."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """Return the process's resident memory now (Linux /proc; 0 where that is not available)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class Budget:
    """The running account of one command against its ``Limits``."""

    MEMORY_EVERY = 16            # checks between two reads of the resident memory

    def __init__(self, limits: Limits):
        self.limits = limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.seconds
        self.steps = 0
        self.lines = 0
        self.exceeded: BudgetExceeded | None = None
        self._memory_base: int | None = None

    def fail(self, kind: str, reason: str) -> None:
        self.exceeded = BudgetExceeded(kind, reason)
        raise self.exceeded

    def _again(self) -> None:
        raise BudgetExceeded(self.exceeded.kind, self.exceeded.reason)

    def check_time(self) -> None:
        if self.exceeded is not None:
            self._again()
        if time.monotonic() > self.deadline:
            self.fail("time", f"the step ran longer than its budget of {self.limits.seconds:g} s")

    def step(self, task: Any = None) -> None:
        """Count one engine task run without a wait state (SpiffWorkflow's ``did_complete_task``)."""
        self.steps += 1
        if self.steps > self.limits.steps:
            where = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
            self.fail("steps", f"more than {self.limits.steps} engine steps without a wait state"
                               + (f" (last at {where})" if where else "")
                               + ": a loop of gateways, scripts or service tasks that never reaches a user task "
                                 "or timer")
        self.check_time()

    def line(self) -> None:
        """Check the deadline (every call) and memory (every few calls) while a script runs."""
        self.check_time()
        self.lines += 1
        if self._memory_base is None:
            self._memory_base = resident_bytes()
        elif self.lines % self.MEMORY_EVERY == 0 and self._memory_base:
            grown = resident_bytes() - self._memory_base
            if grown > self.limits.memory_mb * 1024 * 1024:
                self.fail("memory", f"a script grew the worker's memory by more than {self.limits.memory_mb} MB")

    def size(self, what: str, size: int, limit: int, unit: str) -> None:
        """Refuse an operation whose result would have ``size`` units, over ``limit``."""
        if size > limit:
            self.fail("size", f"{what} would make {size:,} {unit} (budget: {limit:,})")


_active: ContextVar[Budget | None] = ContextVar("engine_budget", default=None)


def current() -> Budget | None:
    """Return the budget of the command running in this context, if any."""
    return _active.get()


@contextlib.contextmanager
def running(limits: Limits) -> Iterator[Budget]:
    """Run a command under a fresh budget of ``limits``."""
    budget = Budget(limits)
    token = _active.set(budget)
    try:
        yield budget
    finally:
        _active.reset(token)


def limits() -> Limits:
    """Return the limits in force: the active budget's, else the defaults (deploy-time checks)."""
    budget = _active.get()
    return budget.limits if budget else DEFAULT_LIMITS


def refuse_size(what: str, size: int, limit: int, unit: str) -> None:
    """Refuse an operation of ``size`` over ``limit``, inside or outside a command."""
    budget = _active.get()
    if budget is not None:
        budget.size(what, size, limit, unit)
    elif size > limit:
        raise BudgetExceeded("size", f"{what} would make {size:,} {unit} (budget: {limit:,})")

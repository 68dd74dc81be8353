"""``--profile``: one persisted batch per database under cProfile, the top functions printed to stderr."""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
from pathlib import Path

TOP = 30


def profile_batches(runners: dict, cases: int, batch) -> None:
    """Profile ``batch(runner, cases)`` for each runner; save the stats file and print the hot spots."""
    folder = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    for kind, runner in runners.items():
        profiler = cProfile.Profile()
        profiler.enable()
        seconds = batch(runner, cases)
        profiler.disable()
        path = folder / f"persisted-{kind}.prof"
        profiler.dump_stats(path)
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(TOP)
            print(f"--- profile {kind}: {cases} cases in {seconds:.2f} s under cProfile, by {order} ({path})",
                  file=sys.stderr)
            print(out.getvalue(), file=sys.stderr)

"""``--clients K``: K client threads in one process, each running its own cases through the same runner.

The web app serves requests from threads that share one ``ProcessEngine``; this
is that shape without HTTP. The clients start together at a barrier and the
batch's time runs from the barrier to the last client's end. An exception in a
client (a thread-safety bug, a deadlock timeout) stops the run and is raised
in the main thread.
"""

from __future__ import annotations

import threading
import time


def concurrent_batch(runner, cases: int, clients: int) -> float:
    """Run ``cases`` cases split over ``clients`` threads; return the wall-clock seconds until all are done."""
    shares = [cases // clients + (i < cases % clients) for i in range(clients)]
    barrier = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def client(share: int) -> None:
        try:
            barrier.wait()
            for _ in range(share):
                runner.run_case()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=client, args=(share,), name=f"bench-client-{i}", daemon=True)
               for i, share in enumerate(shares)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} of {clients} clients failed; the first: {errors[0]!r}") from errors[0]
    return seconds

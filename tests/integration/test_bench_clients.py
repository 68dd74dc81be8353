"""The benchmark's driver-only clients write whole cases on both databases, as the engine would."""

from __future__ import annotations

from bench.floor import FloorRunner
from bench.lean import LeanRunner
from bench.persisted import PersistedRunner
from bench.workload import DEFAULT_BPMN


def test_the_floor_and_the_lean_client_write_complete_cases_like_the_engine(db):
    bpmn = DEFAULT_BPMN.read_bytes()
    engine = PersistedRunner(db, bpmn)
    engine.run_case()
    clients = [FloorRunner(db, bpmn), LeanRunner(db, bpmn)]
    try:
        for client in clients:
            client.run_case()
            client.run_case()
            assert client.commits == 8, "one transaction per command: a start and three completes per case"
            # Completed cases with every task completed, no inbox row left, as many audit events as the engine's.
            engine.check_and_measure(engine.case_ids + client.case_ids)
    finally:
        for client in clients:
            client.close()

"""python -m tools.bpmn_layout [--check] [NAME ...]: write processes/NAME.bpmn, report layout problems."""

import importlib
import sys
from pathlib import Path

from .layout import Layout
from .writer import write

ALL = ['normal', 'escalation', 'demand', 'crisis', 'service_quality']
OUT = Path(__file__).resolve().parents[2] / 'processes'


def main(argv):
    check_only = '--check' in argv
    names = [a for a in argv if not a.startswith('--')] or ALL
    bad = 0
    owner = {}
    for name in names:
        proc = importlib.import_module(f'.defs.{name}', __package__).build()
        proc.check()
        for eid in list(proc.nodes) + [f.id for f in proc.flows]:
            if eid in owner:   # ids stay unique across files: one case runs several of them
                print(f'{name}: id {eid} also used in {owner[eid]}')
                bad += 1
            owner[eid] = name
        lay = Layout(proc)
        problems = lay.problems()
        for msg in problems:
            print(f'{name}: {msg}')
        bad += len(problems)
        if not check_only:
            write(proc, lay, OUT / f'{name}.bpmn')
            print(f'wrote {OUT / (name + ".bpmn")} ({len(proc.nodes)} nodes, {len(proc.flows)} flows)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

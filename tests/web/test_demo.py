"""`complaints demo cases` (run by `make run`) starts cases in different states once; run again it adds none."""

from engine.demo import create_demo_cases
from engine.services import SYSTEM


def test_demo_cases_cover_several_states_and_are_created_once(web_engine):
    made = create_demo_cases(web_engine)
    assert create_demo_cases(web_engine) == made
    status = {mark: web_engine.reads.case_page(case_id, SYSTEM).case.status for mark, case_id in made.items()}
    assert status == {"new": "running", "investigating": "running", "callback": "running", "closed": "completed",
                      "overdue": "running"}
    overdue = web_engine.reads.inbox(web_engine.accounts.actor("li.handler"), overdue=True).tasks
    assert [t.case_id for t in overdue] == [made["overdue"]]

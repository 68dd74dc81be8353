"""`complaints demo cases` (run by `make run`) starts cases in different states once; run again it adds none."""

from engine.demo import create_demo_cases


def test_demo_cases_cover_several_states_and_are_created_once(web_engine):
    made = create_demo_cases(web_engine)
    assert create_demo_cases(web_engine) == made
    status = {mark: web_engine.case(case_id).case.status for mark, case_id in made.items()}
    assert status == {"new": "running", "investigating": "running", "callback": "running", "closed": "completed",
                      "overdue": "running"}
    overdue = web_engine.inbox(web_engine.actor("li.handler"), overdue_at=web_engine.clock())
    assert [t.case_id for t in overdue] == [made["overdue"]]

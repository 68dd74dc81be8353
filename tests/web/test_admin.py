"""Organisation admin over HTTP: an administrator adds people and changes their groups; others get 403."""

from __future__ import annotations

import pytest

NEW_PERSON = {"username": "qin.handler", "name": "秦处理", "unit": "market", "groups": "handler, market",
              "password": "secret-1"}


@pytest.fixture
def admin(client, auth):
    auth.login("admin", "admin")
    return client


def test_admin_adds_a_person_who_can_sign_in(admin, auth, web_engine):
    answer = admin.post("/admin/organisation/people", data=NEW_PERSON)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert 'data-username="qin.handler"' in admin.get("/admin/organisation").get_data(as_text=True)
    auth.logout()
    assert auth.login("qin.handler", "secret-1").status_code == 302
    assert admin.get("/").status_code == 200
    assert sorted(web_engine.accounts.account("qin.handler").groups) == ["handler", "market"]


def test_admin_changes_a_persons_groups(admin, web_engine):
    answer = admin.post("/admin/organisation/people/li.handler/groups", data={"groups": "handler, complaint_group"})
    assert answer.status_code == 302
    assert sorted(web_engine.accounts.account("li.handler").groups) == ["complaint_group", "handler"]


@pytest.mark.parametrize("field, value", [("unit", "no_such_unit"), ("groups", "handler, no_such_group"),
                                          ("username", "li.handler"), ("name", ""), ("password", "")])
def test_invalid_person_gives_a_field_error_and_stores_nothing(admin, web_engine, field, value):
    before = web_engine.admin.organisation()
    answer = admin.post("/admin/organisation/people", data={**NEW_PERSON, field: value})
    assert answer.status_code == 400
    assert f'id="error-{field}"' in answer.get_data(as_text=True)
    assert web_engine.admin.organisation() == before
    assert field == "username" or web_engine.accounts.account("qin.handler") is None


def test_unknown_unit_is_refused_in_chinese(admin):
    page = admin.post("/admin/organisation/people", data={**NEW_PERSON, "unit": "no_such_unit"}).get_data(as_text=True)
    assert "不是已有的单位" in page


def test_unknown_group_changes_nothing(admin, web_engine):
    before = sorted(web_engine.accounts.account("li.handler").groups)
    answer = admin.post("/admin/organisation/people/li.handler/groups", data={"groups": "no_such_group"})
    assert answer.status_code == 400 and "no_such_group" in answer.get_data(as_text=True)
    assert sorted(web_engine.accounts.account("li.handler").groups) == before


def test_non_admins_get_403(client, auth, web_engine):
    auth.login("li.handler")
    assert client.get("/admin/organisation").status_code == 403
    assert client.post("/admin/organisation/people", data=NEW_PERSON).status_code == 403
    assert client.post("/admin/organisation/people/li.handler/groups", data={"groups": "admin"}).status_code == 403
    assert web_engine.accounts.account("qin.handler") is None and "admin" not in sorted(web_engine.accounts.account("li.handler").groups)


def test_forms_carry_the_csrf_token(admin):
    page = admin.get("/admin/organisation").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 2


def test_unknown_group_is_named_in_chinese(admin):
    page = admin.post("/admin/organisation/people", data={**NEW_PERSON, "groups": "no_such_group"}).get_data(as_text=True)
    assert 'id="error-groups">未知群组:no_such_group' in page

"""The web edge (issue 16, items 5, 6 and 9): redirects stay on the site, deployed XML is a download, security
headers and cookies, sign-out ends the session in every worker, the sign-in throttle, the request size limit,
who may start which process, the empty process id, and what a 409 tells whom."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from engine.services import SYSTEM, ProcessEngine
from engine.topics import default_registry
from engine.settings import Settings
from tests.web.test_api import start
from web import create_app

ROOT = Path(__file__).parents[2]
SECRET = "test"


def other_worker(web_engine, db, clock):
    """A second app on its own engine and connection pool over the same database: another gunicorn worker."""
    engine = ProcessEngine(db, clock, default_registry(Settings()), cache_instances=False)
    return create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": SECRET})


def session_cookie(client) -> str:
    return client.get_cookie("session").value


# --- item 5: open redirect --------------------------------------------------------------------------------------

OFF_SITE = ["/\t/evil.example/path", "//evil.example/path", "/\\evil.example", "/\\/evil.example", "https://evil.example/",
            "/\n/evil.example", " //evil.example", "/ /evil.example", "javascript:alert(1)", "evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(client, target):
    answer = client.post("/login", query_string={"next": target}, data={"username": "zhang.intake", "password": "demo"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/home"


def test_the_issue_s_encoded_tab_stays_on_the_site(client):
    answer = client.post("/login?next=/%09/evil.example/path", data={"username": "zhang.intake", "password": "demo"})
    assert answer.headers["Location"] == "/home"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(client, target):
    answer = client.post("/language", data={"locale": "en", "next": target})
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"


def test_a_path_on_the_site_is_where_sign_in_and_language_lead(client):
    answer = client.post("/login", query_string={"next": "/cases?page=2"},
                         data={"username": "zhang.intake", "password": "demo"})
    assert answer.headers["Location"] == "/cases?page=2"
    assert client.post("/language", data={"locale": "en", "next": "/intake"}).headers["Location"] == "/intake"


# --- item 6: the deployed BPMN is a download --------------------------------------------------------------------

SCRIPTED = (ROOT / "tests" / "fixtures" / "loop.bpmn").read_text(encoding="utf-8").replace(
    "<bpmn:definitions ", '<bpmn:definitions xmlns:html="http://www.w3.org/1999/xhtml" ', 1).replace(
    "</bpmn:definitions>", "<html:script>document.title='owned'</html:script></bpmn:definitions>")


def test_a_deployed_file_is_served_as_a_plain_text_download_that_runs_nothing(client, auth, web_engine):
    deployed = web_engine.admin.deploy(SCRIPTED.encode(), "scripted.bpmn")
    auth.login()
    answer = client.get(f"/versions/{deployed[0].version_id}.bpmn")
    assert answer.status_code == 200 and b"<html:script>" in answer.data
    assert answer.mimetype == "text/plain"
    assert answer.headers["Content-Disposition"] == "attachment; filename=scripted.bpmn"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


# --- item 9: headers and cookies --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/api/openapi.json", "/health", "/static/app.css"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers        # plain HTTP


def test_no_template_has_an_inline_script_or_handler():
    for template in (ROOT / "web" / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_over_https(app, auth, client):
    cookie = auth.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client().post("/login", base_url="https://complaints.example",
                                    data={"username": "zhang.intake", "password": "demo"})
    assert secure.status_code == 302
    assert "Secure" in secure.headers["Set-Cookie"] and "SameSite=Lax" in secure.headers["Set-Cookie"]
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_cookie_carries_a_session_token_not_the_username(client, auth):
    auth.login()
    with client.session_transaction() as session:
        assert session["_user_id"] != "zhang.intake" and len(session["_user_id"]) >= 40


def test_a_cookie_copied_before_sign_out_signs_no_one_in_after_it_in_any_worker(client, auth, web_engine, db, clock):
    auth.login("he.netbasic")
    copied = session_cookie(client)
    worker = other_worker(web_engine, db, clock).test_client()
    worker.set_cookie("session", copied)
    assert worker.get("/").status_code == 200           # the other worker knows the session
    assert client.post("/logout").status_code == 302
    for later in (worker, create_app({"ENGINE": web_engine, "TESTING": True, "SECRET_KEY": SECRET}).test_client()):
        later.set_cookie("session", copied)
        assert later.get("/").headers["Location"].startswith("/login")
        assert later.get("/api/tasks").status_code == 401
    auth.login("he.netbasic")                                # signing in again works
    assert client.get("/").status_code == 200


def test_a_session_ends_after_its_hours(client, auth, clock):
    auth.login()
    assert client.get("/").status_code == 200
    clock.advance(hours=12, seconds=1)
    assert client.get("/").status_code == 302


def test_a_deactivated_person_s_session_stops_at_once(client, auth, web_engine):
    auth.login("he.netbasic")
    from engine.store.models import Account
    with web_engine._core.db.transaction() as session:
        session.get(Account, "he.netbasic").active = False
    assert client.get("/").status_code == 302


# --- item 9: the request size limit -----------------------------------------------------------------------------

class CountingStream(io.RawIOBase):
    """An endless body that counts what the server reads of it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        self.read_bytes += len(buffer)
        buffer[:] = b" " * len(buffer)
        return len(buffer)


@pytest.mark.parametrize("path", ["/api/token", "/login", "/api/cases"])
def test_a_200_mb_unauthenticated_body_is_refused_without_reading_it(client, path):
    body = CountingStream()
    answer = client.post(path, content_type="application/json", environ_overrides={
        "wsgi.input": body, "CONTENT_LENGTH": str(200 * 1024 * 1024)})
    assert answer.status_code == 413 and body.read_bytes == 0
    if path.startswith("/api/"):
        assert answer.get_json()["code"] == "request_entity_too_large"


def test_a_chunked_body_past_the_limit_is_cut_off(app, client):
    """Werkzeug reads a chunked body up to the limit and no further: what is left is not JSON (400)."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    body = CountingStream()
    answer = client.post("/api/token", content_type="application/json", environ_overrides={
        "wsgi.input": body, "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    assert answer.status_code in (400, 413) and body.read_bytes <= 1024


def test_a_body_under_the_limit_is_read(client):
    assert client.post("/api/token", json={"username": "zhang.intake", "password": "demo"}).status_code == 200


# --- item 9: who may start which process; the empty process id; what a 409 tells --------------------------------

def test_crisis_is_started_by_the_system_and_the_crisis_group_only(client, token, web_engine):
    before = len(web_engine.reads.case_list(SYSTEM))
    for person in ("li.handler", "zhang.intake", "he.netbasic"):
        refused = client.post("/api/cases", json={"process_key": "crisis", "data": {}}, headers=token(person))
        assert refused.status_code == 403 and refused.get_json()["code"] == "may_not_start"
    assert len(web_engine.reads.case_list(SYSTEM)) == before      # nothing stored
    crisis = {"category": "complaint.network.signal", "warning_level": 0}       # 003 二: the level is required
    assert client.post("/api/cases", json={"process_key": "crisis", "data": crisis},
                       headers=token("zhao.group")).status_code == 201
    assert web_engine.cases.start("crisis", crisis).status == "running"
    assert start(client, token("zhang.intake"))["status"] == "running"     # the default: anyone starts normal


def test_a_process_without_an_id_is_refused_at_deploy(client, token, web_engine):
    headers = token("admin", "admin")
    before = len(web_engine.admin.versions())
    for bad in ('id=""', 'id="   "', 'id="1abc"', f'id="{"x" * 101}"'):
        xml = re.sub(r'<bpmn:process id="[^"]*"', f"<bpmn:process {bad}",
                     (ROOT / "tests" / "fixtures" / "loop.bpmn").read_text(encoding="utf-8"), count=1)
        answer = client.post("/api/processes", data={"file": (io.BytesIO(xml.encode()), "bad.bpmn")}, headers=headers)
        assert answer.status_code == 400, bad
        assert answer.get_json()["code"] == "deployment_refused" and "process id" in answer.get_json()["error"]
    assert len(web_engine.admin.versions()) == before
    empty = client.post("/api/cases", json={"process_key": "", "data": {}}, headers=headers)
    assert empty.status_code == 400 and empty.get_json()["params"]["at"] == "process_key"


def test_a_409_tells_the_completer_only_to_candidates(client, token):
    clerk, handler = token("zhang.intake"), token("he.netbasic")
    task_id = start(client, clerk)["open_tasks"][0]["id"]
    assert client.post(f"/api/tasks/{task_id}/complete", json={"data": {"responsible_person": "he.netbasic"}},
                       headers=handler).status_code == 200
    candidate = client.post(f"/api/tasks/{task_id}/complete", json={"data": {}}, headers=token("tang.netbasic"))
    outsider = [client.post(f"/api/tasks/{task_id}/{verb}", json={"data": {}}, headers=token("li.handler"))
                for verb in ("complete", "claim", "unclaim")]
    assert candidate.status_code == 409 and candidate.get_json()["params"]["by"] == "he.netbasic"
    for answer in outsider:
        assert answer.status_code == 403 and answer.get_json()["code"] == "not_candidate"
        assert "he.netbasic" not in answer.get_data(as_text=True)
    again = client.post(f"/api/tasks/{task_id}/complete", json={"data": {}}, headers=handler)
    assert again.status_code == 409 and again.get_json()["params"]["by"] == "he.netbasic"


# --- item 9: the sign-in throttle -------------------------------------------------------------------------------

def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/api/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_the_eleventh_wrong_password_of_an_account_is_refused_in_every_worker(client, web_engine, db, clock):
    for attempt in range(10):
        assert sign_in(client, "he.netbasic", f"guess-{attempt}", f"10.0.0.{attempt}").status_code == 401
    worker = other_worker(web_engine, db, clock).test_client()
    throttled = sign_in(worker, "he.netbasic", "demo", "10.9.9.9")     # even the right password, from elsewhere
    assert throttled.status_code == 429 and throttled.get_json()["code"] == "too_many_sign_ins"
    assert throttled.get_json()["params"]["scope"] == "account"
    assert int(throttled.headers["Retry-After"]) == 15 * 60
    assert sign_in(client, "zhang.intake", "demo").status_code == 200    # other accounts are not locked
    clock.advance(minutes=15, seconds=1)
    assert sign_in(worker, "he.netbasic", "demo").status_code == 200    # the window moved on


def test_fifty_failures_from_one_address_stop_that_address(client):
    for n in range(50):
        assert sign_in(client, f"nobody{n}", "x", "10.0.0.7").status_code == 401
    throttled = sign_in(client, "zhang.intake", "demo", "10.0.0.7")
    assert throttled.status_code == 429 and throttled.get_json()["params"]["scope"] == "address"
    assert sign_in(client, "zhang.intake", "demo", "10.0.0.8").status_code == 200


def test_a_successful_sign_in_clears_its_account_s_failures(client):
    for _ in range(9):
        sign_in(client, "he.netbasic", "wrong")
    assert sign_in(client, "he.netbasic", "demo").status_code == 200
    for _ in range(9):
        assert sign_in(client, "he.netbasic", "wrong").status_code == 401
    assert sign_in(client, "he.netbasic", "demo").status_code == 200


def test_the_sign_in_page_is_throttled_too_with_a_message(client, auth):
    for _ in range(10):
        auth.login("he.netbasic", "wrong")
    page = auth.login("he.netbasic", "demo")
    assert page.status_code == 429 and "登录失败次数过多" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] == str(15 * 60)

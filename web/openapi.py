"""The OpenAPI 3.1 document of the JSON API (served at /api/openapi.json), and the request check made from it.

Every API request is checked against its operation in this document before
the view runs (``RequestCheck``): path and query parameters, and the JSON
body. A parameter's ``x-error-code`` names the code of its 400. What the document says is what is enforced, so a bad request is a 400
with the parameter and the reason, never an error deeper down: text carries no
NUL or lone surrogate (PostgreSQL stores neither), numbers stay within what a
JSON client holds exactly, ids within their columns, a body within
``MAX_DEPTH`` levels.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from engine.bpmn.parser import PROCESS_KEY
from engine.services import InvalidRequest
from engine.services.reads import CURSOR


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "invalid request or form (per-field errors)", 401: "not signed in or bad token",
             403: "not allowed for this user", 404: "no such object", 409: "conflict (already completed, claimed)",
             413: "the body is longer than the server takes (MAX_CONTENT_LENGTH)",
             429: "too many refused sign-ins for this account or address"}
    found = {str(c): _json(_ref("Error"), words[c]) for c in codes}
    if 429 in codes:
        found["429"]["headers"] = {"Retry-After": {"description": "seconds until a sign-in is taken again",
                                                   "schema": {"type": "integer"}}}
    return found


# Text that every database stores: no NUL (the pattern is written as an escape, so any regex engine reads it).
# A lone surrogate cannot be written in UTF-8: the parse of a body refuses it (``parse_json``).
STORABLE = r"^[^\x00]*$"
# A reason an administrator gives for an audited action: storable text with at least one visible character.
REASON = {"type": "string", "maxLength": 2000, "pattern": r"^[^\x00]*[^\s\x00][^\x00]*$"}
MAX_DEPTH = 32                      # levels of arrays and objects in a request body
MAX_SAFE = 2 ** 53 - 1              # the largest integer a JavaScript client holds exactly
INT32 = 2 ** 31 - 1                 # the largest id of an integer column


def _text(max_length: int, **more: Any) -> dict[str, Any]:
    return {"type": "string", "pattern": STORABLE, "maxLength": max_length, **more}


TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": _text(100)}
CASE_ID = {"name": "case_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1, "maximum": INT32}}
DETAIL = {"name": "detail", "in": "query", "required": False, "schema": {"type": "string", "enum": ["full"]},
          "description": "full: add the whole case page (one more read)"}
PROCESS_KEY_SCHEMA = {"type": "string", "pattern": f"^{PROCESS_KEY.pattern}$",
                      "description": "a deployed process id"}
FORM_DATA = {"type": "object", "description": "the form's values by field id (the BPMN form decides which; "
                                              "a value it refuses is a 400 form_invalid with per-field errors)",
             "propertyNames": _text(200), "additionalProperties": _ref("Value")}
# A week, a month or a quarter (which one a report takes is its own: a 400 invalid_period names it).
PERIOD = {"type": "string", "pattern": "^\\d{4}-(W(0[1-9]|[1-4]\\d|5[0-3])|0[1-9]|1[0-2]|Q[1-4])$"}
REPORT_KEYS = ("P-1", "P-2", "P-3", "P-4")
REPORT_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "enum": list(REPORT_KEYS)}}
# A unit of the organisation by its key (it names a download and a sheet: no control character, no space).
UNIT_KEY = {"type": "string", "pattern": "^[\\w.-]*$", "maxLength": 100}
DATE = {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
SELECTION = [{"name": n, "in": "query", "required": False, "schema": schema, "description": d, **more}
             for n, schema, d, more in (
                 ("process", _text(100), "process key", {}), ("version", {"type": "integer", "minimum": 1, "maximum": INT32}, "version number",
                  {"x-error-code": "invalid_version"}),
                 ("category", _text(200), "category code (and everything under it)", {}),
                 ("department", UNIT_KEY, "responsible department", {}),
                 ("status", {"type": "string", "enum": ["running", "completed", "incident", "cancelled"]},
                  "running, completed, incident or cancelled", {"x-error-code": "invalid_status"}),
                 ("from", DATE, "cases started on or after YYYY-MM-DD (Beijing time)", {"x-error-code": "invalid_date"}),
                 ("to", DATE, "cases started on or before YYYY-MM-DD", {"x-error-code": "invalid_date"}))]
REPORT_QUERY = [
    {"name": "period", "in": "query", "required": True, "schema": PERIOD, "x-error-code": "invalid_period",
     "description": "YYYY-Www (P-1), YYYY-MM (P-2, P-4), YYYY-Qn (P-3); another report's form is a 400 "
                    "invalid_period"},
    {"name": "department", "in": "query", "required": False, "schema": UNIT_KEY,
     "description": "one department (a department head always gets their own)"}]
DRILL = [{"name": n, "in": "query", "required": False, "schema": _text(200), "description": d} for n, d in (
    ("kind", "complaint, consultation, demand, suggestion, demand_or_suggestion"), ("channel", "intake channel"),
    ("category", "category code"), ("grid", "grid group"),
    ("transferred", "true/false: dispatched (投诉转派, P-1)"), ("overdue", "true/false: reply deadline missed"),
    ("upheld", "true/false"), ("escalated", "true/false"), ("month_start", "ISO instant of a quarter's month"))]


def _task_action(summary: str, operation_id: str) -> dict[str, Any]:
    return {"post": {"summary": summary, "operationId": operation_id, "parameters": [TASK_ID],
                     "responses": {"200": _json(_ref("Task"), "the task now"), **_errors(400, 401, 403, 404, 409)}}}


# After a case starts, its first open task can be read, claimed, given back and completed (stateful fuzzing).
TASK_LINKS = {name: {"operationId": operation, "parameters": {"task_id": "$response.body#/open_tasks/0/id"}}
              for name, operation in (("task", "getTask"), ("claim", "claimTask"), ("unclaim", "unclaimTask"),
                                      ("complete", "completeTask"))}
CASE_LINK = {"case": {"operationId": "getCase", "parameters": {"case_id": "$response.body#/id"}}}


def _bounded(schema: Any) -> None:
    """Give every request schema the bounds the store needs, where its author gave none: text without NUL,
    integers within an integer column, numbers a JSON client holds exactly (so a new operation is safe too)."""
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind == "string" and not ({"pattern", "enum", "format", "const"} & set(schema)):
        schema["pattern"] = STORABLE
    elif kind == "integer":
        schema.setdefault("minimum", -INT32 - 1)
        schema.setdefault("maximum", INT32)
    elif kind == "number":
        schema.setdefault("minimum", -MAX_SAFE)
        schema.setdefault("maximum", MAX_SAFE)
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            _bounded(child)
    for key in ("items", "additionalProperties", "propertyNames"):
        _bounded(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for child in schema.get(key, ()):
            _bounded(child)


def _harden(doc: dict[str, Any]) -> dict[str, Any]:
    """Bound every operation's request schemas; document the 400 of its check and the 413 of a body."""
    for item in doc["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                _bounded(parameter["schema"])
            for content in operation.get("requestBody", {}).get("content", {}).values():
                _bounded(content["schema"])
            answers = operation["responses"]
            if operation.get("parameters") or operation.get("requestBody"):
                answers.setdefault("400", _errors(400)["400"])
            if operation.get("requestBody"):
                answers.setdefault("413", _errors(413)["413"])
    return doc


def document() -> dict[str, Any]:
    """Return the OpenAPI document (its request schemas bounded for the store: ``_bounded``)."""
    return _harden(copy.deepcopy(_document()))


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Complaint handling API", "version": "1.0.0",
                 "description": "The staff UI's actions as JSON. Authenticate with POST /api/token and send "
                                "`Authorization: Bearer <token>`, or use the signed-in browser session "
                                "(writes then need the `X-CSRFToken` header). The permission rules are the UI's."},
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/token": {"post": {
                "summary": "Exchange username and password for a bearer token (refused sign-ins are throttled "
                           "per account and address: 429)", "security": [], "operationId": "getToken",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": _text(100), "password": _text(1000)}}}}},
                "responses": {"200": _json({"type": "object", "required": ["token"], "properties": {
                    "token": {"type": "string"}, "username": {"type": "string"},
                    "groups": {"type": "array", "items": {"type": "string"}},
                    "expires_in": {"type": "integer"}}}, "a token"), **_errors(400, 401, 413, 429)}}},
            "/api/openapi.json": {"get": {"summary": "This document", "security": [], "operationId": "openapi",
                                          "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/api/tasks": {"get": {
                "summary": "A page of my tasks and the tasks my groups may claim, by due time",
                "operationId": "listTasks",
                "parameters": [
                    {"name": "process", "in": "query", "required": False, "description": "process key",
                     "schema": _text(100)},
                    {"name": "category", "in": "query", "required": False, "schema": _text(200),
                     "description": "category code (and everything under it)"},
                    {"name": "due", "in": "query", "required": False, "x-error-code": "invalid_date",
                     "schema": {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
                     "description": "due on or before this date (YYYY-MM-DD)"},
                    {"name": "overdue", "in": "query", "required": False, "schema": _text(10),
                     "description": "any value: overdue only"},
                    {"name": "cursor", "in": "query", "required": False, "x-error-code": "invalid_cursor",
                     "schema": {"type": "string", "pattern": f"^{CURSOR.pattern}$"},
                     "description": "next_cursor of the previous page"},
                    {"name": "page_size", "in": "query", "required": False, "x-error-code": "invalid_page_size",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
                "responses": {"200": _json(_ref("InboxPage"), "one page"), **_errors(400, 401)}}},
            "/api/tasks/{task_id}": {"get": {
                "summary": "One task with its form", "parameters": [TASK_ID], "operationId": "getTask",
                "responses": {"200": _json(_ref("Task"), "the task"), **_errors(400, 401, 403, 404)}}},
            "/api/tasks/{task_id}/claim": _task_action("Claim a task of one's groups", "claimTask"),
            "/api/tasks/{task_id}/unclaim": _task_action("Give a claimed task back", "unclaimTask"),
            "/api/tasks/{task_id}/complete": {"post": {
                "summary": "Complete a task with the values of its form", "operationId": "completeTask",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"data": FORM_DATA}}}}},
                "parameters": [TASK_ID, DETAIL],
                "responses": {"200": _json(_ref("CaseRef"), "the case after the task and its open tasks"),
                              **_errors(400, 401, 403, 404, 409, 413)}}},
            "/api/cases": {"get": {
                "summary": "Search the cases one may see (issue 18): filters, sort, keyset pages",
                "operationId": "searchCases",
                "parameters": [{"name": "number", "in": "query", "required": False, "schema": {"type": "integer"}, "description": "case number"}, {"name": "customer", "in": "query", "required": False, "schema": {"type": "string"}, "description": "part of the complainant's name (case ignored)"}, {"name": "contact", "in": "query", "required": False, "schema": {"type": "string"}, "description": "the contact (phone): 4 digits are its last four, more digits a part of the number (separators ignored), other text a part of the contact"}, {"name": "text", "in": "query", "required": False, "schema": {"type": "string"}, "description": "text in the facts (case ignored)"}, {"name": "category", "in": "query", "required": False, "schema": {"type": "string"}, "description": "a category code and its subtree"}, {"name": "status", "in": "query", "required": False, "schema": {"type": "string"}, "description": "running | incident | completed | cancelled"}, {"name": "department", "in": "query", "required": False, "schema": {"type": "string"}, "description": "responsible department (unit key)"}, {"name": "since", "in": "query", "required": False, "schema": {"type": "string"}, "description": "registered on or after (YYYY-MM-DD, Beijing)"}, {"name": "until", "in": "query", "required": False, "schema": {"type": "string"}, "description": "registered on or before (YYYY-MM-DD, Beijing)"}, {"name": "sort", "in": "query", "required": False, "schema": {"type": "string"}, "description": "newest | oldest | updated"}, {"name": "page_size", "in": "query", "required": False, "schema": {"type": "integer"}, "description": "1 to 500"}, {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "the previous page's next_cursor"}],
                "responses": {"200": _json({"type": "object", "required": ["cases", "next_cursor"], "properties": {
                    "cases": {"type": "array", "items": {"type": "object"}},
                    "next_cursor": {"type": ["string", "null"]}, "sort": {"type": "string"}}}, "one page"),
                    **_errors(400, 401)}}, "post": {
                "summary": "Start a case (intake: the start form is validated, I-6)", "parameters": [DETAIL],
                "operationId": "startCase",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["process_key"],
                    "properties": {"process_key": PROCESS_KEY_SCHEMA, "data": FORM_DATA,
                                   "token": {"type": "string", "minLength": 8, "maxLength": 64, "pattern": STORABLE,
                                             "description": "idempotency: the same token again answers the "
                                                            "case it started (also the Idempotency-Key header)"}}}}}},
                "responses": {"201": {**_json(_ref("CaseRef"), "the new case and its open tasks"),
                                      "links": {**TASK_LINKS, **CASE_LINK}},
                              "200": _json(_ref("CaseRef"), "the case this token already started (replayed)"),
                              **_errors(400, 401, 403, 404, 413)}}},
            "/api/cases/{case_id}": {"get": {
                "summary": "A case: facts, tasks, timers, audit events, executed path, deductions",
                "parameters": [CASE_ID], "operationId": "getCase",
                "responses": {"200": _json(_ref("Case"), "the case"), **_errors(400, 401, 403, 404)}}},
            "/api/cases/{case_id}/retry": {"post": {
                "summary": "Run a case's failed steps again (administrators, audited); status incident in the "
                           "answer: the step failed again",
                "operationId": "retryCase", "parameters": [CASE_ID, DETAIL],
                "responses": {"200": _json(_ref("CaseRef"), "the case now (still incident if the step failed again)"),
                              **_errors(400, 401, 403, 404, 409)}}},
            "/api/cases/{case_id}/repair": {"post": {
                "summary": "Repair a case (administrators, audited with the reason): set start-form data (checked "
                           "against the start form of the case's version: a 400 form_invalid names each field), "
                           "move it to another version of its process, retry its failed steps",
                "operationId": "repairCase", "parameters": [CASE_ID, DETAIL],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["reason"], "properties": {
                        "reason": REASON, "data": FORM_DATA,
                        "version": {"type": "integer", "minimum": 1, "maximum": INT32,
                                    "description": "version number of the case's process to move it to"},
                        "retry": {"type": "boolean", "default": True,
                                  "description": "false: set data or version only; the case keeps its incident"}}}}}},
                "responses": {"200": _json(_ref("CaseRef"), "the case now (still incident if the retry failed)"),
                              **_errors(400, 401, 403, 404, 409, 413)}}},
            "/api/cases/{case_id}/cancel": {"post": {
                "summary": "Cancel a case with a reason (administrators, audited): its open tasks and timers end, "
                           "its status is cancelled; a completed or cancelled case is a 409",
                "operationId": "cancelCase", "parameters": [CASE_ID, DETAIL],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["reason"], "properties": {"reason": REASON}}}}},
                "responses": {"200": _json(_ref("CaseRef"), "the case, cancelled"),
                              **_errors(400, 401, 403, 404, 409, 413)}}},
            "/api/processes": {
                "get": {"summary": "Deployed process versions with their running cases", "operationId": "listVersions",
                        "responses": {"200": _json({"type": "array", "items": _ref("Version")}, "versions"),
                                      **_errors(401)}},
                "post": {"summary": "Deploy a BPMN file (administrators and process owners); a file the engine "
                                    "cannot run is a 400 deployment_refused naming line and element",
                         "operationId": "deploy",
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                             "type": "object", "required": ["file"],
                             "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                         "responses": {"201": _json({"type": "array", "items": {"type": "object"}}, "deployed"),
                                       **_errors(400, 401, 403, 413)}}},
            "/api/compliance/conformance": {"get": {
                "summary": "A-2: conformance of a selection of cases (compliance group and administrators)",
                "operationId": "conformance",
                "parameters": SELECTION,
                "responses": {"200": _json(_ref("ConformanceSummary"), "fitness per version and month, deviations"),
                              **_errors(400, 401, 403)}}},
            "/api/compliance/adherence": {"get": {
                "summary": "A-2: deadline adherence (及时率) per rule, version, department and month",
                "operationId": "adherence",
                "parameters": SELECTION,
                "responses": {"200": _json(_ref("AdherenceReport"), "rows and the missed deadlines"),
                              **_errors(400, 401, 403)}}},
            "/api/compliance/export.{fmt}": {"get": {
                "summary": "A-3: the event log of a selection as XES (IEEE 1849) or CSV", "operationId": "exportLog",
                "parameters": [{"name": "fmt", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": ["xes", "csv"]}}] + SELECTION,
                "responses": {"200": {"description": "the log as a download", "content": {
                    "application/xml": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}},
                    **_errors(400, 401, 403)}}},
            "/api/compliance/logs": {"post": {
                "summary": "A-2: check another system's event log against a process version (nothing is stored)",
                "operationId": "checkLog",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file", "process_key", "version"], "properties": {
                        "file": {"type": "string", "format": "binary"}, "process_key": {"type": "string"},
                        "version": {"type": "integer"}, "format": {"type": "string", "enum": ["csv", "xes"]},
                        "case_column": {"type": "string"}, "activity_column": {"type": "string"},
                        "timestamp_column": {"type": "string"}, "resource_column": {"type": "string"},
                        "transition_column": {"type": "string"},
                        "match": {"type": "string", "enum": ["id", "name", "either"]},
                        "closed": {"type": "boolean", "description": "the log's cases are finished"}}}}}},
                "responses": {"200": _json(_ref("LogCheck"), "each case: fits, or its deviations"),
                              **_errors(400, 401, 403, 404)}}},
            "/api/compliance/cases/{case_id}": {"get": {
                "summary": "A-2: one case replayed against the process versions it ran on",
                "parameters": [CASE_ID],
                "responses": {"200": _json(_ref("CaseConformance"), "fits, or its deviations; the overrides"),
                              **_errors(401, 403, 404)}}},
            "/api/reports/{key}": {"get": {
                "summary": "A report of a period (P-1 weekly, P-2 monthly, P-3 quarterly, P-4 rectification)",
                "operationId": "report",
                "parameters": [REPORT_KEY, *REPORT_QUERY],
                "responses": {"200": _json(_ref("Report"), "the report"), **_errors(400, 401, 403, 404)}}},
            "/api/reports/{key}/cases": {"get": {
                "summary": "The cases behind a figure of a report (drill-down, at most 500)", "operationId": "reportCases",
                "parameters": [REPORT_KEY, *REPORT_QUERY, *DRILL],
                "responses": {"200": _json({"type": "array", "items": {"type": "object"}}, "case summaries"),
                              **_errors(400, 401, 403, 404)}}},
            "/api/reports/{key}/export/{fmt}": {"get": {
                "summary": "A report as CSV or XLSX", "operationId": "reportExport",
                "parameters": [REPORT_KEY, {"name": "fmt", "in": "path", "required": True,
                                            "schema": {"type": "string", "enum": ["csv", "xlsx"]}}, *REPORT_QUERY],
                "responses": {"200": {"description": "the file", "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}}}}, **_errors(400, 401, 403, 404)}}},
            "/api/reports/typical": {"post": {
                "summary": "Pick a typical case of a week (P-1, 000 一.1.6; the complaint group)",
                "operationId": "pickTypical",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["period", "case_id"],
                    "properties": {"period": PERIOD, "case_id": CASE_ID["schema"],
                                   "note": _text(4000)}}}}},
                "responses": {"201": _json({"type": "object"}, "picked"),
                              "200": _json({"type": "object"}, "picked already"), **_errors(400, 401, 403, 404, 413)}}},
            "/api/reports/typical/{period}/{case_id}": {"delete": {
                "summary": "Withdraw a typical case of a week", "operationId": "unpickTypical",
                "parameters": [{"name": "period", "in": "path", "required": True, "schema": PERIOD,
                                "x-error-code": "invalid_period"},
                               CASE_ID],
                "responses": {"200": _json({"type": "object"}, "unpicked or not"), **_errors(400, 401, 403, 404)}}},
            "/api/mail": {"get": {
                "summary": "The mail outbox, newest first (administrators): reports and notifications",
                "parameters": [{"name": "state", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["pending", "sent", "dead"]}}],
                "responses": {"200": _json({"type": "array", "items": _ref("Mail")}, "messages"),
                              **_errors(400, 401, 403)}}},
            "/api/mail/{mail_id}/resend": {"post": {
                "summary": "Queue a dead message again (administrators)",
                "parameters": [{"name": "mail_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _json(_ref("Mail"), "queued again"), **_errors(401, 403, 404, 409)}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {
                "Value": {"description": "a form value: text, number, true/false, null, or a list or object of them",
                          "anyOf": [_text(100_000), {"type": "number", "minimum": -MAX_SAFE, "maximum": MAX_SAFE},
                                    {"type": "boolean"}, {"type": "null"},
                                    {"type": "array", "items": _ref("Value")},
                                    {"type": "object", "propertyNames": _text(200),
                                     "additionalProperties": _ref("Value")}]},
                "Error": {"type": "object", "required": ["error", "code"], "properties": {
                    "error": {"type": "string", "description": "English message"}, "type": {"type": "string"},
                    "code": {"type": "string", "description": "stable code to translate or act on"},
                    "params": {"type": "object", "description": "the values the message names"},
                    "errors": {"type": "object", "description": "form_invalid: per field",
                               "additionalProperties": {"type": "object", "required": ["code", "message"],
                                                        "properties": {"code": {"type": "string"},
                                                                       "params": {"type": "object"},
                                                                       "message": {"type": "string"}}}}}},
                "TaskRef": {"type": "object", "required": ["id", "element_id"], "properties": {
                    "id": {"type": "string"}, "element_id": {"type": "string"}, "name": {"type": "string"},
                    "candidate_groups": {"type": "array", "items": {"type": "string"}},
                    "assignee": {"type": ["string", "null"]}, "due_at": {"type": ["string", "null"]}}},
                "CaseRef": {"type": "object", "required": ["id", "status", "open_tasks"], "properties": {
                    "id": {"type": "integer"}, "status": {"type": "string"},
                    "open_tasks": {"type": "array", "items": _ref("TaskRef")},
                    "incident": {"type": "string", "description": "retry, repair: the step failed again (status "
                                                                  "incident), with this error"},
                    "case": _ref("Case")}},
                "InboxPage": {"type": "object", "required": ["tasks", "next_cursor"], "properties": {
                    "tasks": {"type": "array", "items": _ref("Task")},
                    "next_cursor": {"type": ["string", "null"], "description": "null on the last page"},
                    "assigned": {"type": "integer"},
                    "claimable": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "processes": {"type": "array", "items": {"type": "string"}}}},
                "FormField": {"type": "object", "required": ["id", "label", "type"],
                              "description": "a camunda:formField of the task's BPMN, in the order drawn", "properties": {
                    "id": {"type": "string", "description": "the case data key the value is stored under"},
                    "label": {"type": "string", "description": "the Chinese label (camunda:formField label)"},
                    "label_en": {"type": "string", "description": "the English label (camunda:property label_en); "
                                                                  "absent: show the Chinese"},
                    "type": {"type": "string", "enum": ["string", "text", "long", "double", "boolean", "date", "enum"]},
                    "default": {"type": ["string", "null"]},
                    "constraints": {"type": "object", "description": "required, readonly, minlength, maxlength, "
                                                                     "min, max (a date: ISO or today), pattern"},
                    "kind": {"type": "string", "enum": ["person"], "description": "the value is a username"},
                    "options": {"type": "array", "description": "an enum's values (camunda:value)", "items": {
                        "type": "object", "required": ["id", "name"], "properties": {
                            "id": {"type": "string"}, "name": {"type": "string", "description": "Chinese"},
                            "name_en": {"type": "string", "description": "English (value_en:<id>); absent: the "
                                                                          "Chinese"}}}}}},
                "Task": {"type": "object", "required": ["id", "case_id", "element_id", "state"], "properties": {
                    "id": {"type": "string"}, "case_id": {"type": "integer"}, "element_id": {"type": "string"},
                    "name": {"type": "string"}, "state": {"type": "string"},
                    "assignee": {"type": ["string", "null"]}, "due_at": {"type": ["string", "null"]},
                    "overdue": {"type": "boolean"}, "form": {"type": "array", "items": _ref("FormField")},
                    "documentation": {"type": "string"},
                    "candidate_groups": {"type": "array", "items": {"type": "string"}}}},
                "Case": {"type": "object", "required": ["case", "tasks"], "properties": {
                    "case": {"type": "object", "description": "id, process_key, status, data, ..."},
                    "tasks": {"type": "array", "items": _ref("Task")},
                    "timers": {"type": "array", "items": {"type": "object"}},
                    "events": {"type": "array", "items": {"type": "object"}},
                    "path": {"type": "array", "items": {"type": "object"}},
                    "deductions": {"type": "array", "items": {"type": "object"}}}},
                "Deviation": {"type": "object", "required": ["kind", "element_id"], "properties": {
                    "kind": {"type": "string", "enum": ["skipped", "unexpected", "out_of_order", "repeated"]},
                    "element_id": {"type": "string"}, "element_name": {"type": "string"},
                    "at": {"type": ["string", "null"]}, "actor": {"type": ["string", "null"]}}},
                "Override": {"type": "object", "required": ["action", "at"], "properties": {
                    "action": {"type": "string", "description": "retry, paused, resumed, extended, ..."},
                    "at": {"type": "string"}, "actor": {"type": ["string", "null"]},
                    "reason": {"type": ["string", "null"]}, "data": {"type": ["object", "null"]}}},
                "CaseConformance": {"type": "object", "required": ["case_id", "fits", "deviations"], "properties": {
                    "case_id": {"type": "integer"}, "process_key": {"type": "string"}, "version": {"type": "integer"},
                    "versions": {"type": "object", "additionalProperties": {"type": "integer"},
                                 "description": "every pinned process (call activities too) -> version number"},
                    "status": {"type": "string"}, "fits": {"type": "boolean"},
                    "deviations": {"type": "array", "items": _ref("Deviation")},
                    "overrides": {"type": "array", "items": _ref("Override")},
                    "path": {"type": "array", "items": {"type": "string"}}}},
                "ConformanceSummary": {"type": "object", "required": ["cases", "fitting"], "properties": {
                    "cases": {"type": "integer"}, "fitting": {"type": "integer"}, "overridden": {"type": "integer"},
                    "variants": {"type": "integer", "description": "distinct trails replayed"},
                    "rows": {"type": "array", "items": {"type": "object", "description":
                             "process_key, version, month, cases, fitting"}},
                    "deviations": {"type": "array", "items": {"type": "object", "description":
                                   "process_key, kind, element_id, element_name, cases"}},
                    "deviating": {"type": "array", "items": {"type": "object", "description":
                                  "case_id, process_key, version, status, category, department, started_at, "
                                  "deviations [[kind, element_id]], overrides"}}}},
                "AdherenceReport": {"type": "object", "required": ["rows", "missed"], "properties": {
                    "rows": {"type": "array", "items": {"type": "object", "description":
                             "rule_id, process_key, version, department, month, kind (working|clock), deadlines, "
                             "met, missed, open, late_minutes, late_minutes_max, late_counted"}},
                    "missed": {"type": "array", "items": {"type": "object", "description":
                               "case_id, rule_id, element_id, due_at, done_at, late_minutes, kind"}}}},
                "LogCheck": {"type": "object", "required": ["traces", "fitting", "cases"], "properties": {
                    "process_key": {"type": "string"}, "version": {"type": "integer"},
                    "traces": {"type": "integer"}, "fitting": {"type": "integer"},
                    "cases": {"type": "array", "items": {"type": "object", "properties": {
                        "case": {"type": "string"}, "events": {"type": "integer"}, "fits": {"type": "boolean"},
                        "deviations": {"type": "array", "items": _ref("Deviation")}}}}}},
                "Report": {"type": "object", "required": ["key", "period", "tables"], "properties": {
                    "key": {"type": "string"}, "period": {"type": "string"},
                    "start": {"type": "string"}, "end": {"type": "string"},
                    "department": {"type": ["string", "null"]}, "generated_at": {"type": "string"},
                    "due": {"type": "array", "items": {"type": "string"}},
                    "tables": {"type": "array", "items": {"type": "object", "properties": {
                        "key": {"type": "string"}, "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": {"type": "array"}},
                        "drill": {"type": "array", "items": {"type": ["object", "null"]}}}}}}},
                "Mail": {"type": "object", "required": ["id", "state", "attempts"], "properties": {
                    "id": {"type": "integer"}, "source": {"type": "string"},
                    "notification_id": {"type": ["integer", "null"]},
                    "recipients": {"type": "array", "items": {"type": "string"}}, "subject": {"type": "string"},
                    "state": {"type": "string", "enum": ["pending", "sent", "dead"]},
                    "attempts": {"type": "integer"}, "next_attempt_at": {"type": "string"},
                    "last_error": {"type": ["string", "null"]}, "created_at": {"type": "string"},
                    "sent_at": {"type": ["string", "null"]}, "attachment_name": {"type": ["string", "null"]}}},
                "Version": {"type": "object", "required": ["id", "key", "version"], "properties": {
                    "id": {"type": "integer"}, "key": {"type": "string"}, "version": {"type": "integer"},
                    "name": {"type": "string"}, "running": {"type": "integer"}}},
            },
        },
    }


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    """Return how many levels of arrays and objects ``value`` has (without recursion); refuse a lone surrogate."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            _utf8(item)
        elif isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if isinstance(item, dict):
                for key in item:
                    _utf8(key)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("the body has a lone surrogate (an escape \\ud800 to \\udfff alone), which is not text",
                             code="invalid_body") from None


def parse_json(data: bytes) -> Any:
    """Parse a request body as strict JSON (no NaN or Infinity) of at most ``MAX_DEPTH`` levels; 400 otherwise."""
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidRequest(f"the body is nested deeper than {MAX_DEPTH} levels", code="invalid_body",
                             max_depth=MAX_DEPTH) from None
    except ValueError as exc:     # also bytes that are not UTF-8, and integers of more than 4300 digits
        raise InvalidRequest(f"the body is not JSON: {exc}", code="invalid_body") from None
    if _depth(value) > MAX_DEPTH:
        raise InvalidRequest(f"the body is nested deeper than {MAX_DEPTH} levels", code="invalid_body",
                             max_depth=MAX_DEPTH)
    return value


def _whole_number(text: str) -> int | str:
    return int(text) if re.fullmatch(r"[+-]?\d{1,30}", text) else text


def _reason(error) -> str:
    """Say what a value fails without repeating the value (it may be a password)."""
    rule, wanted = error.validator, error.validator_value
    if rule == "pattern":
        return "may not contain NUL" if wanted == STORABLE else f"must match {wanted}"
    words = {"type": "must be of type {}", "maximum": "must be at most {}", "minimum": "must be at least {}",
             "maxLength": "must be at most {} characters", "minLength": "must be at least {} characters",
             "format": "must be a {}", "enum": "must be one of {}"}
    return words[rule].format(wanted) if rule in words else error.message[:200]


class RequestCheck:
    """Check requests against the operations of the document: parameters and JSON bodies."""

    def __init__(self, doc: dict[str, Any]):
        self._doc = doc
        self._validators: dict[tuple, Draft202012Validator] = {}

    def _errors(self, key: tuple, schema: dict[str, Any], value: Any):
        """The first error of ``value`` against ``schema`` ("#/components/..." resolve inside the document)."""
        if key not in self._validators:
            self._validators[key] = Draft202012Validator({"allOf": [schema], "components": self._doc["components"]},
                                                         format_checker=FormatChecker())
        return best_match(self._validators[key].iter_errors(value))

    def check(self, path: str, method: str, path_args: dict[str, Any], query, body) -> Any:
        """Raise InvalidRequest (400) naming the first parameter or body part the operation refuses; return the
        parsed JSON body when the operation takes one (``body`` is called to read it)."""
        operation = self._doc["paths"].get(path, {}).get(method.lower())
        if operation is None:
            return None
        for parameter in operation.get("parameters", ()):
            name, where, schema = parameter["name"], parameter["in"], parameter["schema"]
            if where == "path":
                value = path_args.get(name)
            elif where == "query" and name in query:
                value = _whole_number(query[name]) if schema.get("type") == "integer" else query[name]
            elif parameter.get("required"):
                raise InvalidRequest(f"{where} parameter {name} is required", code="invalid_parameter",
                                     name=name, location=where)
            else:
                continue
            error = self._errors((path, method, where, name), schema, value)
            if error is not None:
                raise InvalidRequest(f"{where} parameter {name} {_reason(error)}",
                                     code=parameter.get("x-error-code", "invalid_parameter"), name=name,
                                     location=where)
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            return None
        parsed = parse_json(body())
        error = self._errors((path, method, "body"), content["application/json"]["schema"], parsed)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the body"
            raise InvalidRequest(f"{where} {_reason(error)}", code="invalid_body", at=where)
        return parsed


@lru_cache(maxsize=1)
def request_check() -> RequestCheck:
    """The check of the served document (one per process; the document does not change while it runs)."""
    return RequestCheck(document())


def openapi_path(rule: str) -> str:
    """Return the document's path of a Flask rule: ``/api/cases/<int:case_id>`` is ``/api/cases/{case_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)

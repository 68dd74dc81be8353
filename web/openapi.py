"""The OpenAPI 3.1 document of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "invalid request or form (per-field errors)", 401: "not signed in or bad token",
             403: "not allowed for this user", 404: "no such object", 409: "conflict (already completed, claimed)"}
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
DETAIL = {"name": "detail", "in": "query", "required": False, "schema": {"type": "string", "enum": ["full"]},
          "description": "full: add the whole case page (one more read)"}


SELECTION = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
             for n, d in (("process", "process key"), ("version", "version number"),
                          ("category", "category code (and everything under it)"),
                          ("department", "responsible department"), ("status", "running, completed or incident"),
                          ("from", "cases started on or after YYYY-MM-DD (Beijing time)"),
                          ("to", "cases started on or before YYYY-MM-DD"))]
REPORT_KEY = {"name": "key", "in": "path", "required": True,
              "schema": {"type": "string", "enum": ["P-1", "P-2", "P-3", "P-4"]}}
REPORT_QUERY = [
    {"name": "period", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "YYYY-Www (P-1), YYYY-MM (P-2, P-4), YYYY-Qn (P-3)"},
    {"name": "department", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "one department (a department head always gets their own)"}]
DRILL = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d} for n, d in (
    ("kind", "complaint, consultation, demand, suggestion, demand_or_suggestion"), ("channel", "intake channel"),
    ("category", "category code"), ("grid", "grid group"),
    ("transferred", "true/false: dispatched (投诉转派, P-1)"), ("overdue", "true/false: reply deadline missed"),
    ("upheld", "true/false"), ("escalated", "true/false"), ("month_start", "ISO instant of a quarter's month"))]


def _task_action(summary: str) -> dict[str, Any]:
    return {"post": {"summary": summary, "parameters": [TASK_ID],
                     "responses": {"200": _json(_ref("Task"), "the task now"), **_errors(401, 403, 404, 409)}}}


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Complaint handling API", "version": "1.0.0",
                 "description": "The staff UI's actions as JSON. Authenticate with POST /api/token and send "
                                "`Authorization: Bearer <token>`, or use the signed-in browser session "
                                "(writes then need the `X-CSRFToken` header). The permission rules are the UI's."},
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/token": {"post": {
                "summary": "Exchange username and password for a bearer token", "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": _json({"type": "object", "required": ["token"], "properties": {
                    "token": {"type": "string"}, "username": {"type": "string"},
                    "groups": {"type": "array", "items": {"type": "string"}},
                    "expires_in": {"type": "integer"}}}, "a token"), **_errors(400, 401)}}},
            "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                          "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/api/tasks": {"get": {
                "summary": "A page of my tasks and the tasks my groups may claim, by due time",
                "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"},
                                "description": d} for n, d in (
                    ("process", "process key"), ("category", "category code (and everything under it)"),
                    ("due", "due on or before this date (YYYY-MM-DD)"), ("overdue", "any value: overdue only"),
                    ("cursor", "next_cursor of the previous page"))] + [
                    {"name": "page_size", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
                "responses": {"200": _json(_ref("InboxPage"), "one page"), **_errors(400, 401)}}},
            "/api/tasks/{task_id}": {"get": {
                "summary": "One task with its form", "parameters": [TASK_ID],
                "responses": {"200": _json(_ref("Task"), "the task"), **_errors(401, 403, 404)}}},
            "/api/tasks/{task_id}/claim": _task_action("Claim a task of one's groups"),
            "/api/tasks/{task_id}/unclaim": _task_action("Give a claimed task back"),
            "/api/tasks/{task_id}/complete": {"post": {
                "summary": "Complete a task with the values of its form",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"data": {"type": "object"}}}}}},
                "parameters": [TASK_ID, DETAIL],
                "responses": {"200": _json(_ref("CaseRef"), "the case after the task and its open tasks"),
                              **_errors(400, 401, 403, 404, 409)}}},
            "/api/cases": {"get": {
                "summary": "Search the cases one may see (issue 18): filters, sort, keyset pages",
                "parameters": [{"name": "number", "in": "query", "required": False, "schema": {"type": "integer"}, "description": "case number"}, {"name": "customer", "in": "query", "required": False, "schema": {"type": "string"}, "description": "part of the complainant's name"}, {"name": "contact", "in": "query", "required": False, "schema": {"type": "string"}, "description": "part of the contact (phone)"}, {"name": "text", "in": "query", "required": False, "schema": {"type": "string"}, "description": "text in the facts"}, {"name": "category", "in": "query", "required": False, "schema": {"type": "string"}, "description": "a category code and its subtree"}, {"name": "status", "in": "query", "required": False, "schema": {"type": "string"}, "description": "running | incident | completed"}, {"name": "department", "in": "query", "required": False, "schema": {"type": "string"}, "description": "responsible department (unit key)"}, {"name": "since", "in": "query", "required": False, "schema": {"type": "string"}, "description": "registered on or after (YYYY-MM-DD, Beijing)"}, {"name": "until", "in": "query", "required": False, "schema": {"type": "string"}, "description": "registered on or before (YYYY-MM-DD, Beijing)"}, {"name": "sort", "in": "query", "required": False, "schema": {"type": "string"}, "description": "newest | oldest | updated"}, {"name": "page_size", "in": "query", "required": False, "schema": {"type": "integer"}, "description": "1 to 500"}, {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "the previous page's next_cursor"}],
                "responses": {"200": _json({"type": "object", "required": ["cases", "next_cursor"], "properties": {
                    "cases": {"type": "array", "items": {"type": "object"}},
                    "next_cursor": {"type": ["string", "null"]}, "sort": {"type": "string"}}}, "one page"),
                    **_errors(400, 401)}}, "post": {
                "summary": "Start a case (intake: the start form is validated, I-6)", "parameters": [DETAIL],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["process_key"],
                    "properties": {"process_key": {"type": "string"}, "data": {"type": "object"},
                                   "token": {"type": "string", "minLength": 8, "maxLength": 64,
                                             "description": "idempotency: the same token again answers the "
                                                            "case it started (also the Idempotency-Key header)"}}}}}},
                "responses": {"201": _json(_ref("CaseRef"), "the new case and its open tasks"),
                              "200": _json(_ref("CaseRef"), "the case this token already started (replayed)"),
                              **_errors(400, 401, 403, 404)}}},
            "/api/cases/{case_id}": {"get": {
                "summary": "A case: facts, tasks, timers, audit events, executed path, deductions",
                "parameters": [CASE_ID],
                "responses": {"200": _json(_ref("Case"), "the case"), **_errors(401, 403, 404)}}},
            "/api/processes": {
                "get": {"summary": "Deployed process versions with their running cases",
                        "responses": {"200": _json({"type": "array", "items": _ref("Version")}, "versions"),
                                      **_errors(401)}},
                "post": {"summary": "Deploy a BPMN file (administrators and process owners)",
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                             "type": "object", "required": ["file"],
                             "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                         "responses": {"201": _json({"type": "array", "items": {"type": "object"}}, "deployed"),
                                       **_errors(400, 401, 403)}}},
            "/api/compliance/conformance": {"get": {
                "summary": "A-2: conformance of a selection of cases (compliance group and administrators)",
                "parameters": SELECTION,
                "responses": {"200": _json(_ref("ConformanceSummary"), "fitness per version and month, deviations"),
                              **_errors(400, 401, 403)}}},
            "/api/compliance/adherence": {"get": {
                "summary": "A-2: deadline adherence (及时率) per rule, version, department and month",
                "parameters": SELECTION,
                "responses": {"200": _json(_ref("AdherenceReport"), "rows and the missed deadlines"),
                              **_errors(400, 401, 403)}}},
            "/api/compliance/export.{fmt}": {"get": {
                "summary": "A-3: the event log of a selection as XES (IEEE 1849) or CSV",
                "parameters": [{"name": "fmt", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": ["xes", "csv"]}}] + SELECTION,
                "responses": {"200": {"description": "the log as a download", "content": {
                    "application/xml": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}},
                    **_errors(400, 401, 403)}}},
            "/api/compliance/logs": {"post": {
                "summary": "A-2: check another system's event log against a process version (nothing is stored)",
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
                "parameters": [REPORT_KEY, *REPORT_QUERY],
                "responses": {"200": _json(_ref("Report"), "the report"), **_errors(400, 401, 403, 404)}}},
            "/api/reports/{key}/cases": {"get": {
                "summary": "The cases behind a figure of a report (drill-down, at most 500)",
                "parameters": [REPORT_KEY, *REPORT_QUERY, *DRILL],
                "responses": {"200": _json({"type": "array", "items": {"type": "object"}}, "case summaries"),
                              **_errors(400, 401, 403, 404)}}},
            "/api/reports/{key}/export/{fmt}": {"get": {
                "summary": "A report as CSV or XLSX",
                "parameters": [REPORT_KEY, {"name": "fmt", "in": "path", "required": True,
                                            "schema": {"type": "string", "enum": ["csv", "xlsx"]}}, *REPORT_QUERY],
                "responses": {"200": {"description": "the file", "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}}}}, **_errors(400, 401, 403, 404)}}},
            "/api/reports/typical": {"post": {
                "summary": "Pick a typical case of a week (P-1, 000 一.1.6; the complaint group)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["period", "case_id"],
                    "properties": {"period": {"type": "string"}, "case_id": {"type": "integer"},
                                   "note": {"type": "string"}}}}}},
                "responses": {"201": _json({"type": "object"}, "picked"),
                              "200": _json({"type": "object"}, "picked already"), **_errors(400, 401, 403, 404)}}},
            "/api/reports/typical/{period}/{case_id}": {"delete": {
                "summary": "Withdraw a typical case of a week",
                "parameters": [{"name": "period", "in": "path", "required": True, "schema": {"type": "string"}},
                               CASE_ID],
                "responses": {"200": _json({"type": "object"}, "unpicked or not"), **_errors(400, 401, 403)}}},
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
                    "case": _ref("Case")}},
                "InboxPage": {"type": "object", "required": ["tasks", "next_cursor"], "properties": {
                    "tasks": {"type": "array", "items": _ref("Task")},
                    "next_cursor": {"type": ["string", "null"], "description": "null on the last page"},
                    "assigned": {"type": "integer"},
                    "claimable": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "processes": {"type": "array", "items": {"type": "string"}}}},
                "Task": {"type": "object", "required": ["id", "case_id", "element_id", "state"], "properties": {
                    "id": {"type": "string"}, "case_id": {"type": "integer"}, "element_id": {"type": "string"},
                    "name": {"type": "string"}, "state": {"type": "string"},
                    "assignee": {"type": ["string", "null"]}, "due_at": {"type": ["string", "null"]},
                    "overdue": {"type": "boolean"}, "form": {"type": "array", "items": {"type": "object"}},
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

"""The compliance group's workspace (SPEC §10): dashboard, deviation list, version heatmaps, a case's
conformance, exports. Only those who hold ``see_compliance`` (data/policy.toml) see it; others get 403."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from engine.services import Selection

from . import present
from .auth import engine, permission_required
from .labels import labels

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
FILTERS = ("process", "version", "category", "department", "status", "from", "to")


@bp.get("")
@permission_required("see_compliance")
def dashboard():
    selection = Selection.parse(request.args)
    compliance = engine().compliance
    summary = compliance.summary(current_user.actor, selection)
    adherence = compliance.adherence(current_user.actor, selection)
    query = {k: request.args[k] for k in FILTERS if request.args.get(k)}
    return render_template("compliance.html", summary=present.conformance(summary),
                           adherence=present.adherence(adherence), versions=engine().admin.versions(),
                           filters=query, processes=sorted({v.key for v in engine().admin.versions()}),
                           departments={k: u for k, u in labels().d.units.items() if u["kind"] in ("department", "grid")})


@bp.get("/cases/<int:case_id>")
@permission_required("see_compliance")
def case(case_id):
    judged = engine().compliance.case(case_id, current_user.actor)
    page = engine().reads.case_page(case_id, current_user.actor)
    return render_template("compliance_case.html", judged=present.case_conformance(judged),
                           case=present.case(page))


@bp.get("/versions/<int:version_id>")
@permission_required("see_compliance")
def version(version_id):
    heatmap = engine().compliance.heatmap(current_user.actor, version_id)
    return render_template("compliance_version.html", heatmap=present.heatmap(heatmap))

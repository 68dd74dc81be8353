"""The documentation ships with the project (issue 18): the README's links resolve in a clone, and the rule
catalogue (docs/rules.md, docs/rules.zh.md) lists every rule id the processes cite."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
RULE = re.compile(r"\b([A-Z]{1,2}-\d+[a-z]?)\b")


def test_relative_links_of_the_readme_and_the_docs_resolve_in_a_clone():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).resolve().exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []
    assert "(docs/rules.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_rule_catalogue_lists_every_rule_the_processes_cite_in_both_languages():
    cited = set()
    for path in (ROOT / "processes").glob("*.bpmn"):
        for doc in re.findall(r"<bpmn:documentation>(.*?)</bpmn:documentation>", path.read_text("utf-8"), re.S):
            cited.update(RULE.findall(doc))
    assert {"I-1", "N-4", "S-6", "C-2"} <= cited
    for name in ("rules.md", "rules.zh.md"):
        listed = set(RULE.findall((ROOT / "docs" / name).read_text(encoding="utf-8")))
        assert cited - listed == set(), f"{name} misses {sorted(cited - listed)}"

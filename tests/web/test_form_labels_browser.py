"""Form fields read in the person's language (issue 18), in a real browser (Debian's chromium, Playwright).

The BPMN gives each form field its Chinese label (camunda:formField label, camunda:value name) and its English
one (camunda:property label_en, value_en:<id>): the intake form, a task form and the case page's facts show
the English words in the English UI, with no Chinese character in a form label or enum option, and the
Chinese ones in the Chinese UI.
"""

from __future__ import annotations

import re

import pytest

from engine.services import SYSTEM
from tests.web.test_browser import browser  # noqa: F401  (the chromium fixture)
from tests.web.test_staff_pages import demo, open_page, shot  # noqa: F401  (the demo app fixture)

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
FORM_WORDS = """() => [...document.querySelectorAll('main .field label, main .field select option')]
    .map(e => e.textContent.trim()).filter(t => t)"""
# What each page shows for a few fields and enum values, in Chinese and in English.
INTAKE = {"zh": ["投诉人", "受理渠道", "热线电话", "客户已向外升级投诉至(E-9)", "未向外升级"],
          "en": ["Complainant", "Channel", "Hotline", "Customer has escalated outside to (E-9)", "Not escalated outside"]}
CALLBACK = {"zh": ["回访记录", "客户满意", "客户仍不满意时", "重新处理(补救后再回访)"],
            "en": ["Call-back note", "Customer satisfied", "If the customer is still dissatisfied",
                   "Handle again (remedy, then call back)"]}
FACTS = {"zh": {"complainant_name": ("投诉人", "孙女士"), "channel": ("受理渠道", "热线电话"),
                "outcome": ("投诉结果", "成立"), "liable_party": ("责任方", "本公司人员(S-1)"),
                "satisfied": ("客户满意", "是")},
         "en": {"complainant_name": ("Complainant", "孙女士"), "channel": ("Channel", "Hotline"),
                "outcome": ("Outcome of the complaint", "Upheld"), "liable_party": ("Liable party", "Our staff (S-1)"),
                "satisfied": ("Customer satisfied", "Yes")}}


def form_words(page) -> list[str]:
    return [" ".join(w.replace("*", "").split()) for w in page.evaluate(FORM_WORDS)]


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_form_labels_and_enum_options_are_in_the_persons_language(browser, demo, locale):  # noqa: F811
    base, engine, cases = demo
    # The intake (start) form: labels and enum options, the category tree's names too.
    page = open_page(browser, base, "zhang.intake", locale, 1366)
    page.goto(f"{base}/intake")
    words = form_words(page)
    assert set(INTAKE[locale]) <= set(words), words
    if locale == "en":
        assert [w for w in words if CJK.search(w)] == [], "Chinese on the English intake form"
    else:
        assert "Complainant" not in words and "Hotline" not in words
    shot(page, f"form-labels-intake-{locale}")
    page.context.close()

    # A task form (the call-back, with its enum), claimed to show the form.
    task = engine.reads.case_page(cases["callback"], SYSTEM).open_tasks[0]
    page = open_page(browser, base, "chen.callback", locale, 1366)
    page.goto(f"{base}/tasks/{task.id}")
    if page.locator("#claim").count():
        page.click("#claim")
    page.wait_for_selector("#task-form")
    words = form_words(page)
    assert set(CALLBACK[locale]) <= set(words), words
    if locale == "en":
        assert [w for w in words if CJK.search(w)] == [], "Chinese on the English task form"
    shot(page, f"form-labels-task-{locale}")
    page.context.close()

    # The case page's facts: each label from its form field, enum values by their names.
    page = open_page(browser, base, "zhao.group", locale, 1366)
    page.goto(f"{base}/cases/{cases['closed']}")
    facts = page.locator("#case-facts")
    for key, (label, value) in FACTS[locale].items():
        assert facts.locator(f"dt[data-key='{key}']").inner_text() == label, key
        assert facts.locator(f"dt[data-key='{key}'] + dd").inner_text() == value, key
    if locale == "en":
        labels = facts.locator("dt").all_inner_texts()
        assert [w for w in labels if CJK.search(w)] == [], "Chinese labels on the English case page"
    shot(page, f"form-labels-case-{locale}")
    page.context.close()

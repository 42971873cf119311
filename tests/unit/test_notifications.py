"""What a message says and when it may go: templates, confidentiality, quiet hours."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import ConfigError
from domain.petition import Category, Channel, Petitioner
from notifications.compose import context
from notifications.plan import PETITIONER
from notifications.privacy import mask_id, mask_phone
from notifications.quiet import next_allowed
from notifications.render import Renderer
from notifications.settings import QuietHours, notify_from_mapping
from tests.conftest import at, new_case, wage_petition

NIGHT = QuietHours(rest_days=False)


def _render(office, case, kind, to, payload=None, language="zh", override=None):  # type: ignore[no-untyped-def]
    ctx = context(kind, to, {"at": "2026-03-02T01:00:00+00:00", **(payload or {})}, case,
                  office.org, office="示范煤矿信访办公室", language=language,
                  to_name=office.org.people[to].name if to != PETITIONER else "信访人",
                  deadlines={"handling": "2026-05-01"})
    return Renderer(language, override).render(kind, ctx)


def _accusation(office, rules):  # type: ignore[no-untyped-def]
    petition = wage_petition(
        petitioner=Petitioner("赵检举", id_number="142601199002023456", phone="13700002222"),
        channel=Channel.ONLINE, category=Category.ACCUSATION,
        subject="检举综采一队队长违规截留奖金", content="队长张华截留全队奖金三万元",
        accused_persons=("zhang.hua",))
    return new_case(office, rules, petition)


def test_quiet_hours_hold_a_night_message_until_morning_across_midnight(calendar):
    assert next_allowed(at("2026-03-03 23:30"), NIGHT, calendar) == at("2026-03-04 07:00")
    assert next_allowed(at("2026-03-04 03:10"), NIGHT, calendar) == at("2026-03-04 07:00")
    assert next_allowed(at("2026-03-04 21:59"), NIGHT, calendar) == at("2026-03-04 21:59")
    assert next_allowed(at("2026-03-04 22:00"), NIGHT, calendar) == at("2026-03-05 07:00")


def test_quiet_hours_skip_a_holiday_but_not_a_make_up_working_sunday(calendar):
    quiet = QuietHours()  # rest days too
    # National Day 2026: Oct 1-7 are rest days; Oct 8 is a working Thursday.
    assert next_allowed(at("2026-09-30 22:30"), quiet, calendar) == at("2026-10-08 07:00")
    assert next_allowed(at("2026-10-03 10:00"), quiet, calendar) == at("2026-10-08 07:00")
    # Sunday 2026-09-20 is a 调休 working day: a message at 10:00 goes at once.
    assert next_allowed(at("2026-09-20 10:00"), quiet, calendar) == at("2026-09-20 10:00")
    assert next_allowed(at("2026-10-03 10:00"), None, calendar) == at("2026-10-03 10:00")


def test_personal_data_is_masked():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_id("142601198001011234") == "1426**********1234"
    assert mask_phone(None) == "" and mask_id("") == ""


def test_an_internal_message_masks_the_petitioners_phone_and_id(office, rules):
    case = new_case(office, rules)
    mail = _render(office, case, "assignment", case.responder)
    assert "138****1234" in mail.text and "1426**********1234" in mail.text
    assert "13812341234" not in mail.text + mail.html
    assert "142601198001011234" not in mail.text + mail.html
    assert mail.subject.startswith("【信访交办】XF-c1")


def test_an_accusation_reaches_only_the_handling_chain_with_the_accuser_and_material(
        office, rules):
    case = _accusation(office, rules)
    assert case.unit == "discipline"
    inside = _render(office, case, "breach", case.responder, {"clock": "handling"})
    assert "赵检举" in inside.text and "截留全队奖金" in inside.text
    for outsider in ("gao.jian", "ma.yun", "zhang.hua"):  # mine head, secretary, accused
        mail = _render(office, case, "escalation", outsider, {"clock": "handling",
                                                              "overdue": "3d"})
        body = mail.subject + mail.text + mail.html
        assert "赵检举" not in body and "截留" not in body and "13700002222" not in body
        assert "137****2222" not in body
        assert "依规保密" in mail.text


def test_petition_text_is_data_never_template_code(office, rules):
    petition = wage_petition(subject="工资 {{ 7*7 }} {% if true %}X{% endif %}",
                             content="<script>alert('x')</script> {{ config }}")
    case = new_case(office, rules, petition)
    mail = _render(office, case, "assignment", case.responder)
    assert "{{ 7*7 }}" in mail.text and "49" not in mail.text
    assert "{% if true %}X{% endif %}" in mail.text
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<script>alert('x')</script>" in mail.text  # plain text stays as typed


def test_english_templates_and_a_units_own_override(office, rules, tmp_path: Path):
    case = new_case(office, rules)
    en = _render(office, case, "acceptance_notice", PETITIONER, language="en")
    assert en.subject == "Your petition XF-c1 is accepted"
    assert "lin.na" not in en.text and "林娜" not in en.text  # no internal names to petitioners
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "reminder.txt").write_text(
        "{% block subject %}本矿提醒 {{ case.ref }}{% endblock %}"
        "{% block body %}请办理 {{ deadline.name }}{% endblock %}", encoding="utf-8")
    mail = _render(office, case, "reminder", case.responder, {"clock": "handling"},
                   override=tmp_path)
    assert (mail.subject, mail.text) == ("本矿提醒 XF-c1", "请办理 限时办结\n")
    assert "请办理 限时办结" in mail.html


def test_every_kind_renders_in_both_languages(office, rules):
    case = new_case(office, rules)
    kinds = ["assignment", "leader_request", "reminder", "warning", "breach", "escalation",
             "extension", "extension_notice", "acceptance_notice", "decline_notice",
             "decision_notice", "rating_request", "digest", "dead_letter", "alert",
             "due_revised"]
    for language in ("zh", "en"):
        for kind in kinds:
            to = PETITIONER if kind.endswith(("notice", "request")) and kind != \
                "leader_request" else "lin.na"
            mail = _render(office, case, kind, to, {"clock": "handling", "by": "30日",
                                                   "rows": [], "failed": {}},
                           language=language)
            assert mail.subject and mail.text.strip() and "<html" in mail.html
    for code in ("rung_failed", "triage", "run_healed"):
        for language in ("zh", "en"):
            mail = _render(office, case, "alert", "li.ming", {"alert": {
                "code": code, "ref": case.ref, "reason": "nobody may receive it"}},
                language=language)
            assert (case.ref in mail.subject and "nobody may receive it" in mail.text) \
                or code == "run_healed"


def test_every_practice_message_renders_its_facts_in_both_languages(office):
    practice = {"rule": "矿领导公开接访", "day": "2026-02-24", "weekday": "星期二",
                "leader": "周强", "place": "信访接待室",
                "moved": "2026-02-20 为休息日，顺延至 2026-02-24", "unit": "综采一队",
                "unit_id": "mining1", "due": "2026-02-24 10:00", "head": "张华",
                "issue": "2026-W09", "first": "2026-02-23", "last": "2026-03-01"}
    rows = [{"unit": "综采一队", "officer": "罗军", "risk": "较大", "summary": "夜班津贴有意见",
             "at": "2026-02-25 16:00", "case": ""}]
    for language in ("zh", "en"):
        for kind, needle in (("reception_notice", "周强"), ("reception_reminder", "顺延至"),
                             ("zero_report_missing", "综采一队"),
                             ("zero_report_overdue", "张华"),
                             ("signal_digest", "夜班津贴有意见")):
            mail = _render(office, None, kind, "li.ming", {"practice": practice,
                                                           "rows": rows},
                           language=language)
            assert needle in mail.subject + mail.text, (language, kind)
            assert "2026-02-2" in mail.subject + mail.text and "<html" in mail.html
    empty = _render(office, None, "signal_digest", "gao.jian", {"practice": practice})
    assert "无情况" in empty.text  # a week without signals is reported as such


def test_bad_notification_settings_name_the_field():
    with pytest.raises(ConfigError, match=r"notifications\.quiet_hours\.start"):
        notify_from_mapping({"quiet_hours": {"start": "25:00"}})
    with pytest.raises(ConfigError, match=r"notifications\.language"):
        notify_from_mapping({"language": "fr"})
    assert notify_from_mapping({"quiet_hours": None}).quiet is None

"""Configuration files: a malformed file is named with its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import ConfigError
from domain.org import org_from_mapping
from services.config import load_office, load_policies
from services.files import load_calendar, load_file
from tests.conftest import SAMPLE_OFFICE


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_office_loads(office):
    assert office.policies.default_id == "cn-2022"
    assert "zj-2023" in office.policies.ids()
    assert office.routing.accusation_unit == "discipline"


def test_a_bad_policy_file_names_file_line_and_field(tmp_path):
    path = _write(tmp_path, "p.yaml", """id: bad
extends: cn-2022
limits:
  handling:
    period: {fortnights: 2}
""")
    with pytest.raises(ConfigError) as e:
        load_policies(tmp_path)
    assert (e.value.source, e.value.line, e.value.field) == (
        str(path), 5, "limits.handling.period.fortnights")
    assert f"{path}:5 (field 'limits.handling.period.fortnights')" in str(e.value)


def test_a_bad_rung_in_a_list_is_located(tmp_path):
    path = _write(tmp_path, "p.yaml", """id: bad
extends: cn-2022
escalation:
  handling:
    - {name: r, level: reminder, at: 50%, to: responder}
    - {name: w, level: warning, at: 80%, to: cook}
""")
    with pytest.raises(ConfigError) as e:
        load_file(path, load_policies(None).with_policy)
    assert (e.value.line, e.value.field) == (6, "escalation.handling[1]")


def test_invalid_yaml_is_located(tmp_path):
    path = _write(tmp_path, "org.yaml", "units: [\n  {id: a\nname: b\n")
    with pytest.raises(ConfigError, match="not valid YAML") as e:
        load_file(path, org_from_mapping)
    assert e.value.line is not None


def test_an_org_chart_with_an_unknown_head_is_located(tmp_path):
    path = _write(tmp_path, "org.yaml", """units:
  - {id: a, name: A}
  - {id: b, name: B, head: nobody}
people:
  - {id: x, name: X, unit: a}
mine_head: x
party_secretary: x
""")
    with pytest.raises(ConfigError, match="unknown person 'nobody'") as e:
        load_file(path, org_from_mapping)
    assert (e.value.line, e.value.field) == (3, "units[1].head")


def test_a_calendar_override_with_a_weekday_make_up_day_is_located(tmp_path):
    path = _write(tmp_path, "calendar.yaml", """years:
  2027:
    source: test
    workdays:
      2027-01-06: 调休上班
""")
    with pytest.raises(ConfigError, match="Wednesday") as e:
        load_calendar(path)
    assert e.value.line == 5 and e.value.field == "years.2027.workdays.2027-01-06"


def test_a_missing_config_folder_says_where_to_find_a_sample(tmp_path):
    with pytest.raises(ConfigError, match="deploy/config holds a sample office"):
        load_office(tmp_path / "nowhere")
    assert SAMPLE_OFFICE.is_dir()


def test_an_unknown_default_policy_in_office_yaml_is_located(tmp_path):
    import shutil

    office = tmp_path / "office"
    shutil.copytree(SAMPLE_OFFICE, office)
    (office / "office.yaml").write_text("name: 测试\ndefault_policy: cn-1995\n",
                                        encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown policy 'cn-1995'") as e:
        load_office(office)
    assert (e.value.source, e.value.line, e.value.field) == (
        str(office / "office.yaml"), 2, "default_policy")


@pytest.mark.parametrize(("yaml_text", "line", "field", "why"), [
    ("reception:\n  rules:\n    - name: 接待\n      days_of_month: [10]\n"
     "      leaders: [gao.jian, nobody]\n", 5, "reception.rules[0].leaders[1]",
     "unknown person 'nobody'"),
    ("reception:\n  rules:\n    - name: 接待\n      leaders: [gao.jian]\n", 3,
     "reception.rules[0]", "either 'days_of_month'"),
    ("reception:\n  rules:\n    - {name: 接待, leaders: [gao.jian], weekday: funday}\n", 3,
     "reception.rules[0].weekday", "unknown weekday 'funday'"),
    ("zero_report:\n  due_at: '14:00'\n  office_at: '10:00'\n  office: [li.ming]\n", 3,
     "zero_report.office_at",
     "after the unit's head"),
    ("zero_report:\n  units: [hr, moon]\n", 2, "zero_report.units[1]", "unknown unit 'moon'"),
    ("zero_report:\n  units: [hr]\n", 2, "zero_report.office", "who in the office"),
    ("information:\n  digest_at: '25:00'\n", 2, "information.digest_at", "HH:MM"),
    ("key_periods:\n  - {name: 春节, from: 2027-02-21, to: 2027-02-03}\n", 2,
     "key_periods[0].to", "before it starts"),
    ("key_periods:\n  - {name: 春节, from: 2027-02-03, to: 2027-02-21,"
     " extra_reminders: ['150%']}\n", 2, "key_periods[0].extra_reminders[0]", "within"),
])
def test_a_bad_practice_in_office_yaml_is_located(tmp_path, yaml_text, line, field, why):
    import shutil

    office = tmp_path / "office"
    shutil.copytree(SAMPLE_OFFICE, office)
    (office / "office.yaml").write_text(f"name: 测试\n{yaml_text}", encoding="utf-8")
    with pytest.raises(ConfigError, match=why) as e:
        load_office(office)
    assert (e.value.source, e.value.field) == (str(office / "office.yaml"), field)
    assert e.value.line == line + 1  # after the "name" line

"""Each chart kind drawn as SVG is safe to show anywhere and carries its numbers: it parses
as XML, holds no script, no on* handler and no http(s) reference (the SVG namespaces are
not attributes once parsed), keeps its Chinese text as text, and its table holds the
numbers drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.charts import Chart, targets

MONTHS = ("2026年1月", "2026年2月", "2026年3月")
CHARTS = [
    Chart("by_channel", "近12个月每月信访量（按渠道）", MONTHS,
          (("来信", (3.0, 4.0, 0.0)), ("来访", (1.0, 2.0, 7.0))), "stacked", "件", "月份"),
    Chart("on_time_by_unit", "各单位按期办结率", ("综采一队", "机电科"),
          (("按期办结率", (87.5, None)),), "bars", "%", "单位"),
    Chart("rates", "近12个月满意率与重复信访率", MONTHS,
          (("满意率", (90.0, None, 75.0)), ("重复信访率", (5.0, 0.0, 12.5))), "lines", "%"),
    targets("targets", "目标与实际", [("结案率", 95.0, 91.2), ("满意率", 90.0, 93.0),
                                      ("重复信访率", 10.0, 4.5)]),
]


def _texts(root: ET.Element) -> str:
    return " ".join(t for e in root.iter() for t in (e.text, e.tail) if t)


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.key)
def test_a_chart_is_an_svg_without_script_links_or_outside_references(chart: Chart) -> None:
    root = ET.fromstring(chart.svg())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for e in root.iter():
        assert not e.tag.endswith("}script") and not e.tag.endswith("}foreignObject"), e.tag
        for name, value in e.attrib.items():
            local = name.rsplit("}", 1)[-1]
            assert not local.lower().startswith("on"), (e.tag, name)
            assert "http:" not in value and "https:" not in value, (e.tag, name, value)
            if local == "href":
                assert value.startswith("#"), value  # only to itself
            assert "url(" not in value or "url(#" in value, value
    text = _texts(root)
    assert "http" not in text and "@import" not in text
    assert chart.title in text  # text kept as text: Chinese in the reader's font
    for label in chart.labels:
        assert label in text


def test_the_table_beside_a_chart_holds_each_number_it_draws() -> None:
    stacked, bars, lines, _ = CHARTS
    assert stacked.head == ["月份", "来信（件）", "来访（件）"]
    assert stacked.rows[2] == ["2026年3月", "0", "7"]
    assert bars.rows == [["综采一队", "87.5%"], ["机电科", "—"]]  # no rate, not 0 %
    assert lines.rows[1] == ["2026年2月", "—", "0.0%"]
    assert "87.5%" in ET.tostring(ET.fromstring(bars.svg()), encoding="unicode")


def test_targets_against_results_take_any_rows_of_label_target_actual() -> None:
    chart = CHARTS[3]
    assert chart.head == ["项目", "实际（%）", "目标（%）"]
    assert chart.rows == [["结案率", "91.2%", "95.0%"], ["满意率", "93.0%", "90.0%"],
                          ["重复信访率", "4.5%", "10.0%"]]
    text = _texts(ET.fromstring(chart.svg()))
    assert "91.2%" in text and "目标" in text and "实际" in text
    counted = targets("t", "化解件数", [("一月", 10, 12)], unit="件")
    assert counted.rows == [["一月", "12", "10"]]


def test_a_chart_as_a_data_uri_stands_alone() -> None:
    import base64

    uri = CHARTS[0].data_uri()
    assert uri.startswith("data:image/svg+xml;base64,")
    assert ET.fromstring(base64.b64decode(uri.split(",", 1)[1])).tag.endswith("svg")

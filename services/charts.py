"""Charts a leader reads in seconds: rows of numbers in, SVG bytes out, pure of the web.

Drawn with matplotlib (well kept, already the house's kind of library, and its SVG keeps
text as ``<text>`` with ``svg.fonttype: none``, so Chinese shows in the reader's font —
WenQuanYi Micro Hei on the server and in WeasyPrint; pygal would need its script turned
off and is less kept). The SVG holds no script, no link and no outside origin: its
metadata (which names matplotlib's site) is left out. matplotlib is imported inside the
functions: the CLI never pays for it (``bench/cli_latency.py``).

Each chart carries its numbers as a table (``Chart.head``/``Chart.rows``) that the page
and the report show beside it."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["stacked", "bars", "lines", "targets"]
FONT = ["WenQuanYi Micro Hei", "sans-serif"]
COLOURS = ["#1f5f8b", "#e07b39", "#5a9e4b", "#b03a48", "#7d5ba6", "#8c8c8c", "#c9a227"]


@dataclass(frozen=True)
class Chart:
    """One chart: ``labels`` along the bottom, each series a value per label (None: no
    value, e.g. a rate of nothing). ``unit`` is "件" or "%" (values then 0–100)."""

    key: str
    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    kind: Kind
    unit: str = "件"
    label_head: str = ""

    @property
    def head(self) -> list[str]:
        return [self.label_head, *(f"{name}（{self.unit}）" for name, _ in self.series)]

    @property
    def rows(self) -> list[list[str]]:
        """The numbers the chart shows, a row a label, as the table beside it reads."""
        return [[label, *(_text(values[i], self.unit) for _, values in self.series)]
                for i, label in enumerate(self.labels)]

    @property
    def alt(self) -> str:
        """What the chart shows, in a sentence (the image's alt text)."""
        return f"{self.title}（数字见旁表）"

    def svg(self) -> bytes:
        return draw(self)

    def data_uri(self) -> str:
        """For a document that stands alone (the report and its PDF)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg()).decode()


def _text(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}%" if unit == "%" else f"{value:g}"


def targets(key: str, title: str, rows: Sequence[tuple[str, float, float | None]],
            unit: str = "%") -> Chart:
    """Targets against results, from rows of (label, target, actual): a bar for the
    result, a marker for the target."""
    return Chart(key, title, tuple(r[0] for r in rows),
                 (("实际", tuple(r[2] for r in rows)), ("目标", tuple(r[1] for r in rows))),
                 "targets", unit, "项目")


def draw(chart: Chart) -> bytes:
    """The chart as an SVG document (UTF-8)."""
    import matplotlib.figure  # here, not at import: the CLI must not load it

    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": FONT,
                                "svg.hashsalt": chart.key, "axes.unicode_minus": False}):
        fig = matplotlib.figure.Figure(figsize=(7.2, 3.4), dpi=72)
        ax = fig.add_subplot()
        _plot(ax, chart)
        ax.set_title(chart.title, fontsize=13)
        ax.spines[["top", "right"]].set_visible(False)
        if chart.unit == "%":
            ax.set_ylim(0, 105)
            ax.set_ylabel("%")
        else:
            ax.set_ylabel("件")
            ax.locator_params(axis="y", integer=True)
        if any(name for name, _ in chart.series) and len(chart.series) > 1:
            ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
        fig.tight_layout()
        out = io.BytesIO()
        # No metadata: matplotlib's default names its web site (an outside reference).
        fig.savefig(out, format="svg", metadata={"Creator": None, "Date": None,
                                                 "Format": None, "Type": None})
    return out.getvalue()


def _plot(ax: Any, chart: Chart) -> None:
    x = list(range(len(chart.labels)))
    if chart.kind == "stacked":
        bottom = [0.0] * len(x)
        for i, (name, values) in enumerate(chart.series):
            v = [float(n or 0) for n in values]
            ax.bar(x, v, bottom=bottom, label=name, color=COLOURS[i % len(COLOURS)])
            bottom = [a + b for a, b in zip(bottom, v, strict=True)]
    elif chart.kind == "bars":
        name, values = chart.series[0]
        v = [float(n or 0) for n in values]
        bars = ax.bar(x, v, color=COLOURS[0], label=name)
        ax.bar_label(bars, labels=[_text(n, chart.unit) for n in values], fontsize=9)
    elif chart.kind == "lines":
        for i, (name, values) in enumerate(chart.series):
            ax.plot(x, [float("nan") if n is None else n for n in values], marker="o",
                    label=name, color=COLOURS[i % len(COLOURS)])
    else:  # targets: the result a bar, the target a marker across it
        (_, actual), (_, target) = chart.series
        bars = ax.bar(x, [float(n or 0) for n in actual], color=COLOURS[0], label="实际")
        ax.bar_label(bars, labels=[_text(n, chart.unit) for n in actual], fontsize=9)
        ax.scatter(x, [float("nan") if n is None else n for n in target], marker="_",
                   s=900, linewidths=3, color=COLOURS[3], label="目标", zorder=3)
    ax.set_xticks(x, chart.labels, fontsize=9,
                  rotation=30 if len(x) > 6 else 0, ha="right" if len(x) > 6 else "center")

"""The CLI of the quarterly risk review (每季不稳定因素分析排查例会): the review pack, the
meeting recorded with its measures (措施/预案), a measure marked done, and the units' yearly
targets (年度信访稳定工作责任书) assessed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import Json, emit, out, parse_day, reports_errors, say, table
from cli.home import app as make_app
from domain.errors import ConfigError
from domain.instants import local_date
from domain.quarters import Quarter
from domain.review import MeasureInput, MeasureKind
from services import review
from services.pdf import html_to_pdf
from services.review_pack import build_pack, render_pack
from services.schema import migrated
from services.targets import target_rows

review_app = typer.Typer(help="The quarterly risk review (每季不稳定因素分析排查例会).",
                         no_args_is_help=True)

QuarterOpt = Annotated[str | None, typer.Option(
    "--quarter", help="Like 2026Q4 (default: this quarter).")]


def register(app: typer.Typer) -> None:
    app.command("review-pack")(review_pack_cmd)
    app.add_typer(review_app, name="review")
    app.command("targets")(targets_cmd)


def _quarter(text: str | None) -> Quarter:
    return Quarter.parse(text) if text else Quarter.of(local_date(make_app().clock.now()))


@reports_errors
def review_pack_cmd(quarter: QuarterOpt = None,
                    out_file: Annotated[Path | None, typer.Option(
                        "--out", help="Write FILE.html or FILE.pdf (default: HTML on "
                        "stdout).")] = None) -> None:
    """The quarter's review pack: petitions and signals by category, unit and place, the
    matters rising, the repeats, the key periods ahead, last quarter's measures and the
    yearly targets so far."""
    a = migrated(make_app())
    page = render_pack(build_pack(a, _quarter(quarter)), a.office.name)
    if out_file is None:
        sys.stdout.write(page)
        return
    if out_file.suffix.lower() not in (".html", ".pdf"):
        raise ConfigError(f"--out ends in .html or .pdf, got {out_file.name}", field="--out")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if out_file.suffix.lower() == ".pdf":
        out_file.write_bytes(html_to_pdf(page))
    else:
        out_file.write_text(page, encoding="utf-8")
    say(f"wrote {out_file} ({out_file.stat().st_size // 1024} KiB)")


def _measures(texts: list[str], kind: MeasureKind) -> list[MeasureInput]:
    out = []
    for text in texts:
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != 3:
            raise ConfigError(f"a {kind.value} is 'TEXT|OWNER|YYYY-MM-DD', got {text!r}",
                              field=f"--{kind.value}")
        out.append(MeasureInput(parts[0], parts[1], parse_day(parts[2], f"--{kind.value}"),
                                kind))
    return out


@review_app.command("record")
@reports_errors
def record_cmd(by: Annotated[str, typer.Option("--by", help="Who records it (a supervisor).")],
               chair: Annotated[str, typer.Option("--chair", help="Who chaired (a person id).")],
               quarter: QuarterOpt = None,
               attendee: Annotated[list[str] | None, typer.Option(
                   "--attendee", help="An attendee's person id (repeat).")] = None,
               issue: Annotated[list[str] | None, typer.Option(
                   "--issue", help="An issue studied (repeat).")] = None,
               measure: Annotated[list[str] | None, typer.Option(
                   "--measure", help="A measure 措施: 'TEXT|OWNER|YYYY-MM-DD' (repeat).")] = None,
               plan: Annotated[list[str] | None, typer.Option(
                   "--plan", help="A plan 预案: 'TEXT|OWNER|YYYY-MM-DD' (repeat).")] = None,
               held_on: Annotated[str | None, typer.Option(
                   "--held-on", help="When it was held (default: today).")] = None) -> None:
    """Record the quarter's meeting: chair, attendees, the issues studied and each measure
    or plan with its owner and due date. Each is then reminded and escalated like a
    deadline."""
    m = review.record_review(
        migrated(make_app()), quarter=_quarter(quarter), actor=by, chair=chair,
        attendees=attendee or [], issues=issue or [],
        measures=_measures(measure or [], MeasureKind.MEASURE)
        + _measures(plan or [], MeasureKind.PLAN),
        held_on=parse_day(held_on, "--held-on") if held_on else None)
    say(f"recorded the {m.quarter} review held {m.held_on}: {len(m.measures)} measure(s)")
    for x in m.measures:
        say(f"  {x.id}  {x.kind.label} {x.text} — {x.owner}, due {x.due}")


@review_app.command("done")
@reports_errors
def done_cmd(measure: Annotated[str, typer.Argument(help="The measure's id.")],
             by: Annotated[str, typer.Option("--by", help="Its owner or the chair.")],
             note: Annotated[str, typer.Option("--note", help="What was done.")] = "") -> None:
    """Mark a measure done (its owner or the meeting's chair)."""
    a = migrated(make_app())
    m = review.measure_done(a, measure, by=by, note=note)
    say(f"{m.id} done: {m.state(a.clock.now()).label}")


@review_app.command("measures")
@reports_errors
def measures_cmd(quarter: QuarterOpt = None, as_json: Json = False) -> None:
    """A quarter's measures as they stand: owner, due date, done on time, late or not."""
    a = migrated(make_app())
    q = _quarter(quarter)
    rows = review.measure_rows(a, review.meeting_of(a, q))
    if as_json:
        emit(rows)
        return
    if not rows:
        say(f"no review recorded for {q.key}")
        return
    out.print(table(rows, ("id", "kind", "text", "owner_name", "due", "state_label",
                           "done_at"), title=q.label))


@reports_errors
def targets_cmd(year: Annotated[int | None, typer.Option(help="Default: this year.")] = None,
                quarter: Annotated[str | None, typer.Option(
                    "--quarter", help="Assess one quarter (2026Q4) instead of the year.")] = None,
                as_json: Json = False) -> None:
    """The units' yearly responsibility letters (office.yaml ``responsibility``) against
    what happened: target, actual, met, gap."""
    a = make_app()
    q = Quarter.parse(quarter) if quarter else None
    y = q.year if q else year or local_date(a.clock.now()).year
    rows = target_rows(a, y, q)
    if as_json:
        emit(rows)
        return
    if not rows:
        say(f"no responsibility letter for {y} (office.yaml responsibility)")
        return
    out.print(table(rows, ("unit_name", "label", "target_text", "actual_text", "verdict",
                           "gap_text"), title=rows[0]["period"]))

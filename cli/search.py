"""``petitions search`` and ``petitions history``: read commands, answered from the database
as the person ``--as`` may see it (the same use cases as the workplace's search box and the
API: ``services/search.py``, ``services/history.py``). No Prefect."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Json, OutFile, emit, out, reports_errors, say, table, write_file
from cli.home import app as make_app
from services import history, search, workbooks

AsWho = Annotated[str, typer.Option("--as", help="The person searching: they find what "
                                    "they may see, nothing else.")]
COLUMNS = ("ref", "stage_label", "category_label", "channel_label", "unit_name",
           "petitioner", "phone", "received", "subject")
HEADERS = ("登记编号", "环节", "类别", "渠道", "承办单位", "信访人", "电话", "收到", "事项")


def register(app: typer.Typer) -> None:
    app.command("search")(search_cmd)
    app.command("history")(history_cmd)


@reports_errors
def search_cmd(query: Annotated[str, typer.Argument(help="A registration number, a name, "
                                                    "a phone or ID number, or words of the "
                                                    "matter (space-separated: all of them).")],
               acts_as: AsWho, as_json: Json = False,
               limit: Annotated[int, typer.Option(min=1, max=search.MAX_PAGE,
                                                  help="Hits shown at once.")] = search.PAGE,
               after: Annotated[str | None, typer.Option(
                   help="The next page: the case id the last page ended with.")] = None,
               out_file: OutFile = None) -> None:
    """The cases QUERY finds that --as may see, the latest first, a page at a time;
    --out FILE.xlsx: all of them (every page) as a workbook."""
    a = make_app()
    if out_file is not None:
        write_file(out_file, workbooks.search_workbook(a, acts_as, query))
        return
    found = search.search(a, acts_as, query, after=after, limit=limit)
    if as_json:
        emit(search.found_record(a, found))
        return
    rows = [{k: v or "" for k, v in search.hit_record(a, h, found.query).items()}
            for h in found.hits]
    out.print(table(rows, COLUMNS, headers=HEADERS))
    say(f"{len(rows)} 件" + (f"；下一页：--after {found.after}" if found.more else ""))


@reports_errors
def history_cmd(ref: Annotated[str, typer.Argument(help="One of the petitioner's cases "
                                                   "(id or registration number).")],
                acts_as: AsWho, as_json: Json = False) -> None:
    """The petitioner's history (信访人档案) of case REF as --as may see it."""
    a = make_app()
    h = history.petitioner_history(a, acts_as, ref)
    record = history.history_record(a, h)
    if as_json:
        emit(record)
        return
    channels = "，".join(f"{label} {n} 次" for _, label, n in h.by_channel)
    say(f"{h.name}：来过 {len(h.hits)} 次（{channels}）；最近一次 {h.last_contact or '—'}；"
        f"重点人员：{'是' if h.key_person else '否'}；在办 {h.open} 件；重复信访 {h.repeats} 件")
    rows = [{k: v or "" for k, v in r.items()} for r in record["items"]]
    out.print(table(rows, COLUMNS, headers=HEADERS))

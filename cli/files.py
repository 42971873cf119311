"""``petitions attach``, ``petitions files`` and ``petitions withdraw-file``: a case's
attachments (附件) from the command line, through the same use cases as the workplace and
the API (``services.attachments``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import Json, emit, out, reports_errors, say, table, via
from cli.home import app as make_app
from domain.attachments import FileKind
from domain.errors import ConfigError
from services import attachments
from services.schema import migrated

Ref = Annotated[str, typer.Argument(help="Case id or registration number.")]
Actor = Annotated[str, typer.Option("--actor", "-a", help="Who acts (a person id).")]
KINDS = " | ".join(f"{k.value} ({k.label})" for k in FileKind)


def register(app: typer.Typer) -> None:
    app.command("attach")(attach_cmd)
    app.command("files")(files_cmd)
    app.command("withdraw-file")(withdraw_cmd)


@reports_errors
def attach_cmd(ref: Ref,
               file: Annotated[Path, typer.Argument(help="The file to attach.")],
               actor: Actor,
               kind: Annotated[str, typer.Option(help=KINDS)] = FileKind.OTHER.value,
               name: Annotated[str | None, typer.Option(
                   help="The name it is shown under (default: the file's).")] = None) -> None:
    """Attach a file to a case (scanned letter, photo, evidence, the signed decision). Its
    type is judged by its content; the office's types, size cap and count per case apply.
    The same file attached again is the one the case holds."""
    try:
        stream = file.open("rb")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(file)) from None
    with stream:
        done = attachments.attach(migrated(make_app()), ref, stream, name=name or file.name,
                                  actor=actor, kind=kind, via=via())
    f = done.file
    if f is None:  # bytes the case held, in a file ACTOR may not see (an outline)
        say(f"{done.ref}: already attached (该文件已在附件中)")
        return
    what = "already attached" if done.already else "attached"
    say(f"{done.ref}: {f.name} {what} as {f.kind.label} ({f.media_type}, {f.size} bytes, "
        f"sha256 {f.sha256}, id {f.id})")


@reports_errors
def files_cmd(ref: Ref, actor: Actor, as_json: Json = False) -> None:
    """The files of a case as ACTOR may see them (an accusation's outline: how many)."""
    found = attachments.listing(make_app(), ref, actor)
    if as_json:
        emit({"ref": found.ref, "count": found.count, "files": [
            {"id": f.id, "name": f.name, "kind": f.kind, "kind_label": f.kind_label,
             "media_type": f.media_type, "size": f.size, "sha256": f.sha256, "at": f.at,
             "by": f.by} for f in found.files]})
        return
    if not found.names_shown:
        say(f"{found.ref}: 有 {found.count} 个附件")
        return
    rows = [{"id": f.id, "name": f.name, "kind": f.kind_label, "type": f.type_label,
             "size": f.size_text, "at": f.at, "by": f.by_name} for f in found.files]
    out.print(table(rows, ("id", "name", "kind", "type", "size", "at", "by"),
                    headers=("编号", "名称", "类别", "类型", "大小", "上传时间", "上传人")))
    say(f"{found.ref}: {found.count} 个附件")


@reports_errors
def withdraw_cmd(ref: Ref, file: Annotated[str, typer.Argument(help="The file's id or "
                                                               "SHA-256.")],
                 actor: Actor,
                 reason: Annotated[str, typer.Option("--reason", "-r", help="Why.")]) -> None:
    """Withdraw a file attached in error: hidden from the case's list, kept, on its audit
    trail. By whoever attached it, or the petition office's head."""
    f = attachments.withdraw(migrated(make_app()), ref, file, actor=actor, reason=reason,
                             via=via())
    say(f"{ref}: {f.name} withdrawn (kept, sha256 {f.sha256})")

"""The use cases of a case's files (附件, ``domain.attachments``): attach, list, open,
withdraw, and re-hash them all for the audit check. Every entrance (the intake form, the
case page, the API, ``petitions attach``) calls these; each checks the person first.

Attaching reads at most the office's cap (plus one byte) of what it is given, judges the
type by the bytes (the ``filetype`` package: magic numbers, and the parts inside an Office
file), and refuses a wrong type, an empty or too large file, or one past the count per
case with one line: nothing is stored then, neither bytes nor row nor event. The same bytes
attached to the same case again are the file it holds (idempotent). The bytes go to the
file store (``App.files``) under their SHA-256 before the row and the ``FileAttached``
event are committed, and before the case is locked (``attach``), so a row never names
bytes that are not there; a commit that fails after, or a refusal made only under the
lock, leaves bytes that no row names, which nothing reads.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import filetype

from domain.acts import FileAct
from domain.attachments import Attachment, FileKind, FilePolicy, FileType, display_name
from domain.case import Case
from domain.door import PETITIONER_ACTOR, check_petitioner
from domain.errors import CaseNotFound, NotPermitted, RuleViolation
from domain.events import EventType
from domain.instants import format_local
from domain.offices import check_in, sight_in
from domain.permissions import Sight
from services.bootstrap import App
from services.cases import commit
from storage.file_port import FileMissing, FileStore
from storage.ports import UnitOfWork

CHUNK = 1024 * 1024


def key_of(sha256: str) -> str:
    """Where a file's bytes are kept in the file store: named by their SHA-256."""
    return f"attachments/{sha256[:2]}/{sha256}"


def read_bounded(stream: BinaryIO, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``stream`` (one more than allowed tells it is too
    large without reading the rest)."""
    parts, size = [], 0
    while size <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def media_type(data: bytes) -> str | None:
    """The media type of ``data`` judged by its content (None: no type ``filetype``
    knows; text and HTML among them)."""
    found = filetype.guess(data)
    return str(found.mime) if found is not None else None


def judge(policy: FilePolicy, stream: BinaryIO, ref: str) -> tuple[bytes, FileType]:
    """The bytes of ``stream`` and their type, if ``policy`` takes them (``RuleViolation``
    naming ``ref`` otherwise): no more than the cap and one byte is read."""
    data = read_bounded(stream, policy.max_bytes)
    policy.check_size(len(data), ref)
    return data, policy.type_of(media_type(data), ref)


@dataclass(frozen=True)
class Attached:
    """A file attached, or the one the case held already with the same bytes. ``file`` is
    None when those bytes were there already in a file ``actor`` may not see (an
    accusation's outline reader: they learn that much, not its name or who attached it)."""

    file: Attachment | None
    ref: str
    already: bool = False


def _kind(value: str | FileKind | None, ref: str) -> FileKind:
    if isinstance(value, FileKind):
        return value
    try:
        return FileKind(value or FileKind.OTHER.value)
    except ValueError:
        raise RuleViolation(ref, f"unknown kind of file {value!r}; one of "
                            f"{', '.join(k.value for k in FileKind)}") from None


def _may_attach(app: App, case: Case, ref: str, actor: str, petitioner_phone: str) -> Sight:
    """What ``actor`` sees of ``case``, when they may attach to it; else the refusal (for
    who may see nothing, the same as for no case). The petitioner at the public door
    attaches to a case of their own, and is told no other file's name."""
    if actor == PETITIONER_ACTOR:
        check_petitioner(case, petitioner_phone, FileAct.ATTACH)
        return Sight.OUTLINE
    seen = _seen(app, case, ref, actor)
    check_in(app.tree, case, actor, FileAct.ATTACH)
    return seen


def _held(app: App, uow: UnitOfWork, ref: str, actor: str, sha: str, policy: FilePolicy, *,
          lock: bool, petitioner_phone: str = "") -> tuple[Case, list[Attachment], Attached | None]:
    """Case ``ref``, its files, and the answer when it holds these bytes already; a
    refusal when they were withdrawn or the case is full. Who may not see the case's
    material learns neither the file's name nor who attached or withdrew it, nor why."""
    case = uow.cases.get(ref, lock=lock)
    # again: the case may have changed hands
    seen = _may_attach(app, case, ref, actor, petitioner_phone)
    held = uow.attachments.of_case(case.id)
    same = next((a for a in held if a.sha256 == sha), None)
    shown = seen >= Sight.MATERIAL
    if same is not None and same.withdrawn:
        raise RuleViolation(case.ref, f"file refused: these bytes were attached as "
                            f"'{same.name}' and withdrawn ({same.withdraw_reason})" if shown
                            else "file refused: these bytes were attached and withdrawn")
    if same is not None:
        return case, held, Attached(same if shown else None, case.ref, already=True)
    policy.check_count(sum(not a.withdrawn for a in held), case.ref)
    return case, held, None


def attach(app: App, ref: str, stream: BinaryIO, *, name: str, actor: str,
           kind: str | FileKind | None = None, via: str = "",
           petitioner_phone: str = "") -> Attached:
    """Attach the file read from ``stream`` (shown as ``name``) to case ``ref`` as
    ``actor``. ``CaseNotFound`` for whoever may see nothing of the case; ``NotPermitted``
    for anyone else who may not attach; ``RuleViolation`` for a file the office does not
    take.

    Three steps, so that no transaction is open while the file is read or its bytes
    written (an object store, with its retries), and the case is locked only to commit:
    a look at the case (the person, the office's rules), the file judged, a second look
    (bytes the case holds or withdrew, a full case), the bytes written under their SHA-256;
    then, the case locked, those checks again and the row and the event committed. Nothing
    is stored on a refusal of the looks (the person, the kind, the type, the size, an
    empty file, bytes withdrawn, a full case); one that only the locked step makes, the
    case having changed in between, leaves bytes that no row names, which nothing reads
    (writing the same bytes again is harmless: the key is their SHA-256)."""
    now = app.clock.now()
    with app.uow() as uow:  # on SQLite any transaction locks the database: kept short
        case = uow.cases.get(ref, lock=False)
        _may_attach(app, case, ref, actor, petitioner_phone)  # first: a refusal tells nothing
    what = _kind(kind, case.ref)
    policy = app.office_of(case).files
    data, found = judge(policy, stream, case.ref)
    sha = hashlib.sha256(data).hexdigest()
    with app.uow() as uow:
        *_, answer = _held(app, uow, ref, actor, sha, policy, lock=False,
                             petitioner_phone=petitioner_phone)
    if answer is not None:
        return answer
    app.files.put(key_of(sha), data)
    with app.uow() as uow:
        case, held, answer = _held(app, uow, ref, actor, sha, policy, lock=True,
                                      petitioner_phone=petitioner_phone)
        if answer is not None:  # sent twice at once: the other request attached it
            return answer
        file = Attachment(uuid.uuid4().hex, case.id, sha, len(data), found.media_type,
                          display_name(name), what, actor, now, n=len(held) + 1)
        uow.attachments.add(file)
        since = len(case.events)
        case.file_attached(file.id, sha, file.size, file.media_type, what.value,
                           actor=actor, now=now)
        if via:
            case.attribute(since, via=via)
        commit(app, uow, now)
        return Attached(file, case.ref)


@dataclass(frozen=True)
class FileView:
    """One file as a page or the API shows it: names and labels, no internal path."""

    id: str
    name: str
    kind: str
    kind_label: str
    media_type: str
    type_label: str
    size: int
    size_text: str
    sha256: str
    at: str  # local time, as a person reads it
    at_utc: str  # ISO 8601, for the API
    by: str
    by_name: str
    preview: str  # "image", "pdf" or ""
    withdrawable: bool


@dataclass(frozen=True)
class Listing:
    """A case's files as ``person`` may see them: an outline reader gets the count alone
    (``files`` empty); ``can_attach`` whether they may add one."""

    ref: str
    sight: Sight
    count: int
    files: list[FileView]
    can_attach: bool

    @property
    def names_shown(self) -> bool:
        return self.sight >= Sight.MATERIAL


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _may(app: App, case: Case, person: str, act: FileAct) -> bool:
    try:
        check_in(app.tree, case, person, act)
    except (NotPermitted, CaseNotFound):
        return False
    return True


def _view(app: App, case: Case, a: Attachment, person: str) -> FileView:
    who = app.person(a.by)
    t = a.type
    return FileView(a.id, a.name, a.kind.value, a.kind.label, a.media_type,
                    t.label if t else a.media_type, a.size, _size(a.size), a.sha256,
                    format_local(a.at), a.at.isoformat(), a.by, who.name if who else a.by,
                    t.preview if t else "", _may_withdraw(app, case, a, person))


def _may_withdraw(app: App, case: Case, a: Attachment, person: str) -> bool:
    if person == a.by:
        return _may(app, case, person, FileAct.ATTACH)
    return _may(app, case, person, FileAct.WITHDRAW_FILE)


def _seen(app: App, case: Case, ref: str, person: str) -> Sight:
    seen = sight_in(app.tree, case, person)
    if seen is Sight.NONE:  # the accused and outsiders: as for a case that does not exist
        raise CaseNotFound(ref)
    return seen


def listing(app: App, ref: str, person: str) -> Listing:
    """The files of case ``ref`` (withdrawn ones left out) as ``person`` may see them;
    ``CaseNotFound`` for whoever may see nothing of the case."""
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        seen = _seen(app, case, ref, person)
        shown = [a for a in uow.attachments.of_case(case.id) if not a.withdrawn]
    views = [_view(app, case, a, person) for a in shown] if seen >= Sight.MATERIAL else []
    return Listing(case.ref, seen, len(shown), views, _may(app, case, person, FileAct.ATTACH))


def counts(app: App, cases: Sequence[Case]) -> dict[str, int]:
    """How many files (not withdrawn) each of ``cases`` holds (for lists: a count is what
    every reader of a case may see)."""
    with app.uow() as uow:
        return uow.attachments.counts([c.id for c in cases])


def _find(held: list[Attachment], which: str, ref: str) -> Attachment:
    found = next((a for a in held if not a.withdrawn and which in (a.id, a.sha256)), None)
    if found is None:
        raise FileNotInCase(ref, which)
    return found


class FileNotInCase(RuleViolation):
    """No file (not withdrawn) of that id or SHA-256 in the case."""

    def __init__(self, ref: str, which: str) -> None:
        super().__init__(ref, f"it holds no file '{which}'")


def open_file(app: App, ref: str, which: str, person: str) -> tuple[Attachment, bytes]:
    """A file of case ``ref`` (by id or SHA-256) and its bytes, for ``person`` who sees
    the case's material. ``CaseNotFound`` for whoever may see nothing of it;
    ``NotPermitted`` for an outline reader; ``FileNotInCase`` for no such file."""
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        if _seen(app, case, ref, person) < Sight.MATERIAL:
            raise NotPermitted(case.ref, f"'{person}' sees that it holds files, not the "
                               "files (an accusation's outline)")
        file = _find(uow.attachments.of_case(case.id), which, case.ref)
    try:
        data = app.files.get(key_of(file.sha256))
    except FileMissing:
        raise RuleViolation(case.ref, f"the bytes of file '{file.name}' are missing from "
                            "the file store (petitions audit verify --files)") from None
    return file, data


def withdraw(app: App, ref: str, which: str, *, actor: str, reason: str,
             via: str = "") -> Attachment:
    """Withdraw a file attached in error: hidden from the case's list, its bytes and row
    kept, the withdrawal on the case's audit trail. By whoever attached it, or the petition
    office's head."""
    now = app.clock.now()
    with app.uow() as uow:
        case = uow.cases.get(ref)
        _seen(app, case, ref, actor)
        file = _find(uow.attachments.of_case(case.id), which, case.ref)
        check_in(app.tree, case, actor,
                 FileAct.ATTACH if actor == file.by else FileAct.WITHDRAW_FILE)
        since = len(case.events)
        case.file_withdrawn(file.id, file.sha256, reason=reason, actor=actor, now=now)
        if via:
            case.attribute(since, via=via)
        uow.attachments.withdraw(file.id, actor, now, reason.strip())
        commit(app, uow, now)
    return file


@dataclass(frozen=True)
class FilesCheck:
    """``petitions audit verify --files``: every stored file re-hashed against its row
    and its ``FileAttached`` event, every file event against a row; what does not match,
    one line each."""

    checked: int
    problems: list[str]


def verify_files(uow: UnitOfWork, store: FileStore) -> FilesCheck:
    """Re-hash every attached file's stored bytes (withdrawn ones too: they are kept) and
    compare them with the row and with the SHA-256 the case's hash chain recorded; walk
    every case's ``FileAttached`` and ``FileWithdrawn`` events (the chain vouches for
    them) for a file whose row is gone, a row no event attached, and a withdrawal the row
    does not show or shows without its event."""
    problems: list[str] = []
    files = uow.attachments.every()
    rows = {a.id: a for a in files}
    attached: dict[str, tuple[str, str]] = {}  # file → (case, SHA-256), as chained
    withdrawn: set[str] = set()
    for r in uow.attachments.events():
        file_id, sha = str(r.data.get("file")), str(r.data.get("sha256"))
        attaching = r.type == EventType.FILE_ATTACHED.value
        if file_id not in rows and (attaching or file_id not in attached):  # once a file
            problems.append(f"case {r.case_id} file {file_id}: its audit trail "
                            f"{'attached' if attaching else 'withdrew'} it (SHA-256 "
                            f"{sha[:12]}…), no row holds it")
        if attaching:
            attached[file_id] = (r.case_id, sha)
        else:
            withdrawn.add(file_id)
    for a in files:
        where = f"case {a.case_id} file {a.id} ({a.name})"
        if a.id not in attached:
            problems.append(f"{where}: no FileAttached event on its case's audit trail")
        elif attached[a.id] != (a.case_id, a.sha256):
            problems.append(f"{where}: its row's SHA-256 is not the one its audit trail "
                            "recorded")
        if a.withdrawn != (a.id in withdrawn):
            problems.append(f"{where}: its row says it is "
                            f"{'withdrawn' if a.withdrawn else 'not withdrawn'}, its audit "
                            f"trail that it {'is not' if a.withdrawn else 'was withdrawn'}")
        try:
            actual = hashlib.sha256(store.get(key_of(a.sha256))).hexdigest()
        except FileMissing:
            problems.append(f"{where}: its bytes are missing ({store.where(key_of(a.sha256))})")
            continue
        if actual != a.sha256:
            problems.append(f"{where}: its bytes changed (SHA-256 {actual[:12]}…, recorded "
                            f"{a.sha256[:12]}…) at {store.where(key_of(a.sha256))}")
    return FilesCheck(len(files), problems)

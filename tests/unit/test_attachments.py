"""A case's files (附件) through the use cases, on the in-memory store with the local file
store under the test's home: who may attach and see them, what is refused (and that
nothing is stored then), idempotence, withdrawal, and the audit check of the bytes."""

from __future__ import annotations

import io
import os
import stat

import pytest

from domain.attachments import FilePolicy, display_name
from domain.errors import CaseNotFound, NotPermitted, RuleViolation
from services import attachments as files
from services import cases as s
from services.bootstrap import App
from tests.conftest import WAGE, events_of, in_handling
from tests.samples import EXE, HTML, image, pdf

ACCUSATION = {**WAGE, "category": "accusation", "subject": "综采一队队长截留职工奖金",
              "content": "队长张华在绩效考核中截留奖金", "accused_persons": ["zhang.hua"],
              "concerns_unit": "mining1", "petitioner": {"name": "匿名职工"}}


@pytest.fixture
def app(memory_app: App) -> App:
    return memory_app


def attach(app: App, ref: str, data: bytes, who: str = "lin.na", name: str = "扫描件.png",
           kind: str | None = None) -> files.Attached:
    return files.attach(app, ref, io.BytesIO(data), name=name, actor=who, kind=kind)


def stored(app: App) -> list[str]:
    root = app.settings.home / "files"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def accusation(app: App) -> str:
    case = s.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui")
    return s.route_and_assign(app, case.id, actor="intake").id


def test_a_file_attached_is_kept_under_its_sha256_and_chained_in_the_audit_trail(app):
    case_id = in_handling(app)
    scan = pdf()
    done = attach(app, "XF-1", scan, who="qian.hui", name="C:\\扫描\\来信 第1页.pdf",
                  kind="letter_scan")
    assert not done.already and done.file.media_type == "application/pdf"
    assert done.file.name == "来信 第1页.pdf" and done.file.kind.label == "来信扫描件"
    event = events_of(app, case_id)[-1]
    assert event.type == "FileAttached" and event.data["sha256"] == done.file.sha256
    assert event.data["size"] == len(scan) and "name" not in event.data
    path = app.settings.home / "files" / files.key_of(done.file.sha256)
    assert path.read_bytes() == scan
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(app.settings.home / "files").st_mode) == 0o700
    got, data = files.open_file(app, "XF-1", done.file.id, "lin.na")
    assert data == scan and got.id == done.file.id
    assert files.open_file(app, "XF-1", done.file.sha256, "lin.na")[1] == scan


def test_the_same_bytes_attached_twice_are_one_file(app):
    case_id = in_handling(app)
    first = attach(app, "XF-1", image())
    before = len(events_of(app, case_id))
    again = attach(app, "XF-1", image(), name="另一个名字.png", who="qian.hui")
    assert again.already and again.file.id == first.file.id
    assert len(events_of(app, case_id)) == before
    assert files.listing(app, "XF-1", "lin.na").count == 1


@pytest.mark.parametrize(("data", "name", "why"), [
    (EXE, "证据.pdf", "application/x-msdownload"),
    (HTML, "来信.pdf", "no known type"),
    (b"", "空.png", "empty"),
    (image("GIF"), "动图.png", "image/gif"),
])
def test_a_file_the_office_does_not_take_is_refused_and_nothing_is_stored(app, data, name,
                                                                         why):
    case_id = in_handling(app)
    before = events_of(app, case_id)
    with pytest.raises(RuleViolation, match=why) as refused:
        attach(app, "XF-1", data, name=name)
    assert "\n" not in str(refused.value)
    assert events_of(app, case_id) == before and stored(app) == []
    assert files.listing(app, "XF-1", "lin.na").count == 0


def test_a_file_over_the_cap_is_refused_after_reading_no_more_than_the_cap(app):
    import dataclasses

    in_handling(app)
    small = dataclasses.replace(app.office, files=FilePolicy(max_bytes=1000, max_per_case=2))
    app = dataclasses.replace(app, office=small, installation=None)

    class Endless(io.RawIOBase):
        read_so_far = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b):  # type: ignore[no-untyped-def]
            b[:] = b"\x89PNG" + b"\0" * (len(b) - 4) if len(b) >= 4 else b"\0" * len(b)
            self.read_so_far += len(b)
            return len(b)

    stream = Endless()
    with pytest.raises(RuleViolation, match="larger than 1000 bytes"):
        files.attach(app, "XF-1", stream, name="大.png", actor="lin.na")  # type: ignore[arg-type]
    assert stream.read_so_far <= 1001 and stored(app) == []
    attach(app, "XF-1", image(seed=1))
    attach(app, "XF-1", image(seed=2))
    with pytest.raises(RuleViolation, match="limit per case is 2"):
        attach(app, "XF-1", image(seed=3))
    assert len(stored(app)) == 2


def test_the_accused_and_outsiders_learn_nothing_and_outline_readers_only_a_count(app):
    accusation(app)
    scan = attach(app, "XF-A", image(), who="qian.hui", name="举报信.png").file
    for who in ("zhang.hua", "luo.jun", "zheng.tao"):  # the accused, his team, an outsider
        for call in (lambda w: files.listing(app, "XF-A", w),
                     lambda w: files.open_file(app, "XF-A", scan.id, w),
                     lambda w: attach(app, "XF-A", pdf(), who=w),
                     lambda w: files.withdraw(app, "XF-A", scan.id, actor=w, reason="x")):
            with pytest.raises(CaseNotFound) as nothing:
                call(who)
            assert str(nothing.value) == "no case 'XF-A'"
    outline = files.listing(app, "XF-A", "qian.hui")  # office staff: the outline of one
    assert outline.count == 1 and outline.files == [] and not outline.names_shown
    with pytest.raises(NotPermitted):
        files.open_file(app, "XF-A", scan.id, "qian.hui")
    handler = files.listing(app, "XF-A", "xu.jing")  # the discipline office handles it
    assert [f.name for f in handler.files] == ["举报信.png"]


def test_the_chain_and_the_office_attach(app):
    in_handling(app)
    for who in ("lin.na", "wang.fang", "qian.hui", "li.ming"):  # responder, head, office
        assert files.listing(app, "XF-1", who).can_attach, who
    assert files.listing(app, "XF-1", "gao.jian").can_attach  # a re-reviewer, chain too


def test_a_supervisor_of_the_office_above_sees_the_files_and_attaches_none(tmp_path):
    import pendulum

    from services.clock import FixedClock
    from services.config import load_installation
    from services.settings import Settings
    from storage.memory import MemoryStore
    from tests.conftest import SAMPLE_OFFICE

    group = SAMPLE_OFFICE.parent / "group"
    settings = Settings(home=tmp_path, config_dir=group, office="mine-a")
    installation = load_installation(group)
    app = App(settings, installation.office("mine-a"),
              FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), MemoryStore().uow,
              installation=installation)
    in_handling(app)
    attach(app, "XF-1", pdf(), who="lin.na")
    seen = files.listing(app, "XF-1", "sx.pan")
    assert seen.count == 1 and seen.names_shown and not seen.can_attach
    with pytest.raises(NotPermitted, match="only its people act"):
        attach(app, "XF-1", image(), who="sx.pan")


def test_a_withdrawn_file_is_hidden_and_kept_by_its_uploader_or_the_office_head(app):
    case_id = in_handling(app)
    photo = attach(app, "XF-1", image(), who="lin.na").file
    scan = attach(app, "XF-1", pdf(), who="qian.hui").file
    with pytest.raises(NotPermitted):
        files.withdraw(app, "XF-1", scan.id, actor="lin.na", reason="传错了")
    with pytest.raises(RuleViolation, match="reason"):
        files.withdraw(app, "XF-1", photo.id, actor="lin.na", reason=" ")
    files.withdraw(app, "XF-1", photo.id, actor="lin.na", reason="传错了")
    files.withdraw(app, "XF-1", scan.id, actor="li.ming", reason="重复")  # the office head
    listed = files.listing(app, "XF-1", "lin.na")
    assert listed.count == 0 and listed.files == []
    assert len(stored(app)) == 2  # kept
    assert [e.type for e in events_of(app, case_id)][-2:] == ["FileWithdrawn"] * 2
    with pytest.raises(files.FileNotInCase):
        files.open_file(app, "XF-1", photo.id, "lin.na")
    with pytest.raises(RuleViolation, match="withdrawn"):
        attach(app, "XF-1", image())


def test_audit_verify_files_finds_a_changed_byte_and_a_missing_file(app):
    in_handling(app)
    photo = attach(app, "XF-1", image()).file
    scan = attach(app, "XF-1", pdf()).file
    with app.uow() as uow:
        assert files.verify_files(uow, app.files) == files.FilesCheck(2, [])
    path = app.settings.home / "files" / files.key_of(photo.sha256)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    (app.settings.home / "files" / files.key_of(scan.sha256)).unlink()
    with app.uow() as uow:
        found = files.verify_files(uow, app.files)
    assert found.checked == 2 and len(found.problems) == 2
    assert "bytes changed" in found.problems[0] and photo.id in found.problems[0]
    assert "missing" in found.problems[1]


def test_an_unknown_kind_is_refused(app):
    in_handling(app)
    with pytest.raises(RuleViolation, match="unknown kind"):
        attach(app, "XF-1", image(), kind="selfie")
    assert stored(app) == []


def test_a_name_is_made_safe_for_a_header_and_a_page():
    assert display_name('../../etc/passwd') == "passwd"
    assert display_name('a"b\r\nc<d>.pdf') == "a_b__c_d_.pdf"
    assert display_name("  ") == "附件" and len(display_name("长" * 500)) == 120


def test_a_name_loses_the_format_characters_that_reorder_or_hide_its_text():
    assert display_name("发票\u202egpj.exe") == "发票gpj.exe"  # right-to-left override
    assert display_name("\u2066a\u2069\u200e\u200f\u202a\u202c\ufeffb\u200b.pdf") == "ab.pdf"
    assert display_name("\u202e") == "附件"


def test_an_outline_reader_sending_bytes_the_case_holds_learns_no_name_attacher_or_reason(app):
    accusation(app)
    letter = attach(app, "XF-A", pdf(), who="xu.jing", name="举报人赵秀英亲笔信.pdf").file
    assert letter is not None
    again = attach(app, "XF-A", pdf(), who="qian.hui", name="扫描.pdf")  # office staff
    assert again.already and again.file is None and again.ref == "XF-A"
    assert attach(app, "XF-A", pdf(), who="xu.jing").file == letter  # the handler: the file
    files.withdraw(app, "XF-A", letter.id, actor="xu.jing", reason="举报人要求不公开")
    with pytest.raises(RuleViolation, match="withdrawn") as refused:
        attach(app, "XF-A", pdf(), who="qian.hui")
    told = str(refused.value)
    assert "赵秀英" not in told and "不公开" not in told and "xu.jing" not in told
    with pytest.raises(RuleViolation, match=r"赵秀英.*不公开"):
        attach(app, "XF-A", pdf(), who="xu.jing")


def test_an_outline_reader_is_told_a_file_was_attached_not_its_kind():
    from domain.narrative import describe
    from tests.unit.test_labels import Org

    data = {"file": "f1", "sha256": "ab" * 32, "kind": "evidence"}
    assert describe("FileAttached", data, Org()) == "添加附件：证据"
    assert describe("FileAttached", data, Org(), restricted=True) == "添加附件"


def test_audit_verify_files_finds_a_deleted_row_and_an_undone_withdrawal(app):
    import dataclasses

    in_handling(app)
    photo = attach(app, "XF-1", image()).file
    scan = attach(app, "XF-1", pdf()).file
    files.withdraw(app, "XF-1", scan.id, actor="lin.na", reason="传错了")
    with app.uow() as uow:
        assert files.verify_files(uow, app.files).problems == []
        del uow.data.attachments[photo.id]  # type: ignore[attr-defined]
        uow.data.attachments[scan.id] = dataclasses.replace(  # type: ignore[attr-defined]
            uow.data.attachments[scan.id], withdrawn_at=None, withdrawn_by=None,  # type: ignore[attr-defined]
            withdraw_reason=None)
        uow.commit()
    with app.uow() as uow:
        found = files.verify_files(uow, app.files)
    assert len(found.problems) == 2, found.problems
    assert photo.id in found.problems[0] and "no row" in found.problems[0]
    assert scan.id in found.problems[1] and "withdrawn" in found.problems[1]


def test_audit_verify_files_finds_a_row_its_audit_trail_never_attached(app):
    import dataclasses

    in_handling(app)
    photo = attach(app, "XF-1", image()).file
    with app.uow() as uow:
        forged = dataclasses.replace(photo, id="forged", sha256="0" * 64, n=2)
        uow.attachments.add(forged)
        uow.commit()
    with app.uow() as uow:
        found = files.verify_files(uow, app.files)
    assert any("forged" in p and "no FileAttached" in p for p in found.problems), found.problems


def test_the_bytes_are_written_before_the_case_is_locked(app):
    import dataclasses

    in_handling(app)
    opened: list[bool] = []
    real_uow, real_files = app.uow, app.files

    class Watched:
        def __init__(self) -> None:
            self.inner = real_uow()

        def __enter__(self):  # type: ignore[no-untyped-def]
            opened.append(True)
            return self.inner.__enter__()

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            opened.pop()
            return self.inner.__exit__(*exc)

    class Store:
        def __init__(self) -> None:
            self.puts: list[bool] = []

        def put(self, key: str, data: bytes) -> None:
            self.puts.append(bool(opened))
            real_files.put(key, data)

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real_files, name)

    store = Store()
    watched = dataclasses.replace(app, uow=Watched, _files=store)
    done = files.attach(watched, "XF-1", io.BytesIO(image()), name="a.png", actor="lin.na")
    assert store.puts == [False]  # no transaction open while the bytes were written
    assert files.open_file(app, "XF-1", done.file.id, "lin.na")[1] == image()  # type: ignore[union-attr]

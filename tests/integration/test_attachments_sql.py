"""The attachments' rows on SQLite and PostgreSQL (migration 0021), through the use cases:
one file per content per case even when two requests race, withdrawal kept, and the audit
check of the bytes."""

from __future__ import annotations

import io
import threading

from services import attachments as files
from tests.conftest import events_of, in_handling
from tests.samples import image, pdf


def test_files_are_listed_withdrawn_and_verified_on_each_database(app):
    case_id = in_handling(app)
    scan = files.attach(app, "XF-1", io.BytesIO(pdf()), name="来信.pdf", actor="qian.hui",
                        kind="letter_scan").file
    photo = files.attach(app, "XF-1", io.BytesIO(image()), name="现场.png", actor="lin.na",
                         kind="photo").file
    listed = files.listing(app, "XF-1", "lin.na")
    assert [(f.name, f.kind_label, f.by_name) for f in listed.files] == [
        ("来信.pdf", "来信扫描件", "钱慧"), ("现场.png", "照片", "林娜")]
    files.withdraw(app, "XF-1", photo.id, actor="lin.na", reason="拍错了")
    assert [f.id for f in files.listing(app, "XF-1", "lin.na").files] == [scan.id]
    with app.uow() as uow:
        kept = {a.id: a for a in uow.attachments.every()}
        assert kept[photo.id].withdrawn_by == "lin.na" and kept[photo.id].withdrawn_at
        assert files.verify_files(uow, app.files) == files.FilesCheck(2, [])
        assert uow.attachments.counts([case_id]) == {case_id: 1}
        assert uow.audit_check()[1] == []  # the chain holds with the files' events in it
    assert [e.type for e in events_of(app, case_id)][-3:] == [
        "FileAttached", "FileAttached", "FileWithdrawn"]


def test_the_same_file_sent_twice_at_once_is_one_file(app):
    in_handling(app)
    data, results, errors = image(seed=7), [], []

    def send() -> None:
        try:
            results.append(files.attach(app, "XF-1", io.BytesIO(data), name="同一张.png",
                                        actor="lin.na"))
        except Exception as e:  # the assertion below names it
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] or all("changed by someone else" in str(e) for e in errors)
    assert len({r.file.id for r in results}) == 1
    assert files.listing(app, "XF-1", "lin.na").count == 1

"""The file store's contract, one suite over both adapters: the folder under the home and an
S3-compatible object store — moto's server, started here as a process of its own and spoken
to over HTTP by boto3, as a replica would speak to MinIO."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.errors import ConfigError
from storage.file_port import FileMissing, FileStore
from storage.files import LocalFiles, S3Files, file_store
from tests.conftest import wait_for

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a free local port, for the session; its log in a temp file."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.poll() is not None or _answers(url + "/moto-api/"), 60,
                 "moto's server to answer")
        assert server.poll() is None, "moto's server exited at start (see moto.log)"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


def new_bucket(endpoint: str) -> str:
    import boto3

    name = f"petitions-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFiles(tmp_path / "home" / "files")
    request.getfixturevalue("aws_keys")
    endpoint = request.getfixturevalue("s3_endpoint")
    return file_store(f"s3://{new_bucket(endpoint)}/office-a?endpoint={endpoint}", tmp_path)


def test_bytes_put_are_the_bytes_got(store: FileStore):
    data = bytes(range(256)) * 1000
    store.put("attachments/ab/abcdef", data)
    assert store.get("attachments/ab/abcdef") == data
    assert store.exists("attachments/ab/abcdef")


def test_a_key_never_written_is_missing(store: FileStore):
    assert not store.exists("attachments/00/none")
    with pytest.raises(FileMissing):
        store.get("attachments/00/none")


def test_a_second_put_replaces_the_first_whole(store: FileStore):
    store.put("notices/XF-1/acceptance.pdf", b"first version")
    store.put("notices/XF-1/acceptance.pdf", b"second")
    assert store.get("notices/XF-1/acceptance.pdf") == b"second"


def test_a_key_leaving_the_store_is_refused(store: FileStore):
    for bad in ("../escape", "/etc/passwd", "a/../../b", "a//b", ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")


def test_where_names_the_place_a_person_can_find(store: FileStore):
    where = store.where("attachments/ab/abc")
    assert where.endswith("attachments/ab/abc")
    assert where.startswith("s3://petitions-") or where.startswith("/")


def test_the_local_folder_is_its_owners_alone(tmp_path: Path):
    store = LocalFiles(tmp_path / "files")
    store.put("attachments/ab/abc", b"data")
    for path in (tmp_path / "files", tmp_path / "files" / "attachments",
                 tmp_path / "files" / "attachments" / "ab"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700, path
    assert stat.S_IMODE(os.stat(tmp_path / "files/attachments/ab/abc").st_mode) == 0o600
    assert [p.name for p in (tmp_path / "files/attachments/ab").iterdir()] == ["abc"]


def test_two_replicas_on_one_bucket_read_each_others_files(s3_endpoint, aws_keys, tmp_path):
    bucket = new_bucket(s3_endpoint)
    url = f"s3://{bucket}/p?endpoint={s3_endpoint}"
    one, two = file_store(url, tmp_path / "a"), file_store(url, tmp_path / "b")
    one.put("attachments/cd/cdef", b"scanned letter")
    assert two.get("attachments/cd/cdef") == b"scanned letter"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_missing_bucket_is_said_in_one_line(s3_endpoint, aws_keys, tmp_path):
    store = file_store(f"s3://no-such-bucket-here?endpoint={s3_endpoint}", tmp_path)
    with pytest.raises(ConfigError, match="no bucket 'no-such-bucket-here'"):
        store.put("a/b", b"x")


def test_the_files_url_is_read_or_refused(tmp_path: Path):
    assert isinstance(file_store(None, tmp_path), LocalFiles)
    s3 = file_store("s3://bucket/a/b?endpoint=http://127.0.0.1:9000&region=cn-north-1",
                    tmp_path)
    assert isinstance(s3, S3Files) and (s3.bucket, s3.prefix, s3.endpoint, s3.region) == (
        "bucket", "a/b", "http://127.0.0.1:9000", "cn-north-1")
    for bad in ("http://x/y", "s3://", "s3://b?key=secret"):
        with pytest.raises(ConfigError, match="PETITIONS_FILES_URL"):
            file_store(bad, tmp_path)

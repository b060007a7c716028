"""The storage seam: the same behaviour from a local directory and from S3 (moto)."""

import boto3
import pytest
from moto import mock_aws

from pipeline.storage import LocalStorage, ObjectExistsError, S3Storage, open_storage


@pytest.fixture
def s3_storage(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="wvi-data")
        yield S3Storage("s3://wvi-data/prefix", client=client)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    return request.getfixturevalue("s3_storage")


def test_create_exclusive_writes_once_and_refuses_to_overwrite(storage):
    key = "bronze/events/load_date=2026-05-01/run_id=r1/part-00001.json"
    with storage.create_exclusive(key) as handle:
        handle.write(b"[1,")
        handle.write(b"2]")
    assert storage.get(key) == b"[1,2]"
    with pytest.raises(ObjectExistsError), storage.create_exclusive(key) as handle:
        handle.write(b"[]")
    assert storage.get(key) == b"[1,2]"


def test_put_get_list_delete(storage):
    storage.put("state/watermarks.json", b"{}")
    storage.put("state/pending/r1.json", b"{}")
    storage.put("bronze/x.json", b"[]")
    assert list(storage.list("state")) == ["state/pending/r1.json", "state/watermarks.json"]
    storage.put("state/watermarks.json", b'{"v": 2}')
    assert storage.get("state/watermarks.json") == b'{"v": 2}'
    storage.delete("state/pending/r1.json")
    assert not storage.exists("state/pending/r1.json")
    assert storage.exists("bronze/x.json")
    assert list(storage.list("nothing/here")) == []


def test_s3_keys_live_under_the_prefix(s3_storage):
    storage = s3_storage
    storage.put("a/b.json", b"1")
    keys = [o["Key"] for o in storage.client.list_objects_v2(Bucket="wvi-data")["Contents"]]
    assert keys == ["prefix/a/b.json"]
    assert storage.uri("a/b.json") == "s3://wvi-data/prefix/a/b.json"


def test_local_keys_cannot_escape_the_root(tmp_path):
    with pytest.raises(ValueError, match="escapes"):
        LocalStorage(tmp_path).put("../outside.json", b"x")


def test_open_storage_picks_the_implementation(tmp_path):
    assert isinstance(open_storage(str(tmp_path)), LocalStorage)
    with pytest.raises(ValueError, match="unsupported"):
        open_storage("gs://bucket/x")

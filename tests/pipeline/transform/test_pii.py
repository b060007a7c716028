"""IP masking and hashing: the Spark expressions agree with the Python reference."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from pipeline.transform.pii import (
    check_key,
    check_mode,
    hmac_sha256_col,
    mask_ip,
    protect_email,
    protect_email_col,
    protect_ip,
    protect_ip_col,
)

KEY = b"k" * 32

CASES = {
    "203.0.113.7": "203.0.113.0",
    "10.0.0.255": "10.0.0.0",
    "2001:db8:85a3::8a2e:370:7334": "2001:db8:85a3::",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334": "2001:db8:85a3::",
    "2001:db8::1": "2001:db8::",
    "::1": "::",
    "fe80::1%eth0": "fe80::",
    "1::2:3:4:5:6:7": "1:0:2::",
    "0:0:5::": "0:0:5::",
    "::ffff:192.0.2.1": "::",
    "not an ip": None,
    "999.1.1.1": None,
    "01.2.3.4": None,
    "1:2:3": None,
    "1::2::3": None,
    "": None,
}


def spark_mask(spark, values, mode="masked", key=None):
    df = spark.createDataFrame(pd.DataFrame({"ip": list(values)}), "ip string")
    rows = df.select(protect_ip_col(F.col("ip"), mode, key).alias("out")).collect()
    return [r.out for r in rows]


def test_python_reference_cases():
    for ip, masked in CASES.items():
        assert mask_ip(ip) == masked, ip


def test_spark_matches_the_reference_cases(spark):
    assert spark_mask(spark, CASES) == list(CASES.values())


@settings(max_examples=5, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.ip_addresses(v=4).map(str),
            st.ip_addresses(v=6).map(str),
            st.ip_addresses(v=6).map(lambda a: a.exploded),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_spark_matches_python_on_any_address(spark, ips):
    assert spark_mask(spark, ips) == [mask_ip(ip) for ip in ips]
    for ip in ips:  # and the masked network really is the /24 or /48 of the address
        prefix = 24 if ipaddress.ip_address(ip).version == 4 else 48
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(f"{mask_ip(ip)}/{prefix}")


def test_raw_and_hashed_modes(spark):
    ips = ["203.0.113.7", None]
    assert spark_mask(spark, ips, "raw") == ips
    digest = hmac.new(KEY, b"203.0.113.7", hashlib.sha256).hexdigest()
    assert spark_mask(spark, ips, "hashed", KEY) == [digest, None]
    assert protect_ip("203.0.113.7", "hashed", KEY) == digest
    assert protect_ip("203.0.113.7", "raw") == "203.0.113.7"
    # Keyed: not the plain hash that anyone can compute for every IPv4 address.
    assert digest != hashlib.sha256(b"203.0.113.7").hexdigest()
    assert spark_mask(spark, ips, "hashed", b"x" * 32)[0] != digest


@settings(max_examples=10, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.text(max_size=80)), min_size=1, max_size=20),
    key=st.binary(min_size=32, max_size=130),  # past 64 bytes HMAC hashes the key first
)
def test_spark_hmac_is_rfc_2104_hmac_sha256(spark, values, key):
    df = spark.createDataFrame(pd.DataFrame({"v": values}, dtype=object), "v string")
    got = [r.o for r in df.select(hmac_sha256_col(F.col("v"), key).alias("o")).collect()]
    want = [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values
    ]
    assert got == want


def test_the_key_never_appears_in_a_query_plan(spark):
    # Plans are printed by explain, the Spark UI's event logs and many analysis errors.
    key = b"K3y-" * 10
    df = spark.createDataFrame(pd.DataFrame({"v": ["203.0.113.7"]}), "v string")
    out = df.select(
        protect_ip_col(F.col("v"), "hashed", key).alias("ip"),
        protect_email_col(F.col("v"), "hashed", key).alias("email"),
    )
    assert out.first()["ip"] == hmac.new(key, b"203.0.113.7", hashlib.sha256).hexdigest()
    plans = out._jdf.queryExecution().toString().upper()  # parsed … physical
    padded = key.ljust(64, b"\0")
    for secret in (key, bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)):
        assert secret.hex().upper() not in plans
    assert "K3Y-" not in plans


def test_hashed_mode_needs_a_key_of_32_bytes():
    with pytest.raises(ValueError, match="WVI_PII_KEY") as missing:
        check_key("hashed", None)
    assert "32 bytes" in str(missing.value)
    with pytest.raises(ValueError, match="WVI_PII_KEY must be at least 32 bytes, not 31"):
        check_key("hashed", "s" * 31)
    assert check_key("hashed", "s" * 32) == b"s" * 32
    assert check_key("hashed", "s" * 32 + "\n") == b"s" * 32  # as Secrets Manager values are
    assert check_key("masked", None) is None and check_key("raw", "ignored") is None
    with pytest.raises(ValueError, match="WVI_PII_KEY"):
        protect_ip_col(F.col("ip"), "hashed")


def test_emails_are_hashed_unless_raw(spark):
    df = spark.createDataFrame(pd.DataFrame({"e": [" Jim@Example.com ", None, " "]}), "e string")

    def out(mode, key=None):
        column = protect_email_col(F.col("e"), mode, key).alias("o")
        return [r.o for r in df.select(column).collect()]

    plain = hashlib.sha256(b"jim@example.com").hexdigest()
    keyed = hmac.new(KEY, b"jim@example.com", hashlib.sha256).hexdigest()
    assert out("masked") == [plain, None, None]
    assert out("hashed", KEY) == [keyed, None, None]
    assert out("raw") == [" Jim@Example.com ", None, " "]
    for mode, want in (("masked", plain), ("hashed", keyed), ("raw", " Jim@Example.com ")):
        assert protect_email(" Jim@Example.com ", mode, KEY) == want
    assert protect_email(" ", "masked") is None


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="WVI_PII"):
        check_mode("scrambled")
    assert check_mode(" Hashed ") == "hashed"

"""IP masking and hashing: the Spark expressions agree with the Python reference."""

from __future__ import annotations

import hashlib
import ipaddress

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from pipeline.transform.pii import (
    check_mode,
    mask_ip,
    protect_email_col,
    protect_ip,
    protect_ip_col,
)

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


def spark_mask(spark, values, mode="masked"):
    df = spark.createDataFrame(pd.DataFrame({"ip": list(values)}), "ip string")
    rows = df.select(protect_ip_col(F.col("ip"), mode).alias("out")).collect()
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
    digest = hashlib.sha256(b"203.0.113.7").hexdigest()
    assert spark_mask(spark, ips, "hashed") == [digest, None]
    assert protect_ip("203.0.113.7", "hashed") == digest
    assert protect_ip("203.0.113.7", "raw") == "203.0.113.7"


def test_emails_are_hashed_unless_raw(spark):
    df = spark.createDataFrame(pd.DataFrame({"e": [" Jim@Example.com ", None]}), "e string")
    hashed = [r.o for r in df.select(protect_email_col(F.col("e"), "masked").alias("o")).collect()]
    assert hashed == [hashlib.sha256(b"jim@example.com").hexdigest(), None]
    raw = [r.o for r in df.select(protect_email_col(F.col("e"), "raw").alias("o")).collect()]
    assert raw == [" Jim@Example.com ", None]


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="WVI_PII"):
        check_mode("scrambled")
    assert check_mode(" Hashed ") == "hashed"

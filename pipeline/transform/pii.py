"""Personal data in events: IP addresses and e-mails, per `WVI_PII` (ARCHITECTURE §8).

- `masked` (default): the last IPv4 octet is zeroed (`203.0.113.7` → `203.0.113.0`); an IPv6
  address keeps its first 48 bits (`2001:db8:85a3::8a2e:370:7334` → `2001:db8:85a3::`, in
  RFC 5952 form); anything that is not an IP address becomes null. E-mails are replaced by
  their SHA-256 (of the trimmed, lowercased address) so they still count but do not read.
- `hashed`: the HMAC-SHA256 (hex) of the IP address as received, and of the trimmed,
  lowercased e-mail, keyed with `WVI_PII_KEY` (a secret of at least 32 bytes). A plain hash
  would be no protection: the 2^32 IPv4 addresses are hashed and looked up in minutes. The
  same key gives the same value for the same address, so visitors still join and count.
- `raw`: both kept as received.

The Spark expressions are native (no Python UDF), except the HMAC, a pandas UDF so that the
key never appears in a query plan; `mask_ip`, `protect_ip` and `protect_email` are the same
rules in Python, used to test them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import partial
from typing import Literal

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F

PiiMode = Literal["masked", "raw", "hashed"]
PII_MODES: tuple[str, ...] = ("masked", "raw", "hashed")

_V6_CHARS = r"^[0-9a-f:.]+$"
# A group of more than 4 hex digits, ':::' or a lone ':' at either end.
_V6_BAD = r"[0-9a-f]{5,}|:::|^:[^:]|[^:]:$"
# An embedded IPv4 address may only be the last group.
_V6_TAIL_V4 = r"^[0-9a-f:]*:[0-9]{1,3}(\.[0-9]{1,3}){3}$"
# Four decimal octets without leading zeros (their range is checked separately: cheaper).
_V4_SHAPE = r"^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$"


MIN_KEY_BYTES = 32


def check_mode(mode: str) -> PiiMode:
    mode = (mode or "masked").strip().lower()
    if mode not in PII_MODES:
        raise ValueError(f"WVI_PII must be one of {', '.join(PII_MODES)}, not {mode!r}")
    return mode  # type: ignore[return-value]


def check_key(mode: str, key: str | bytes | None) -> bytes | None:
    """The hashing key as bytes when `mode` is hashed (required, ≥ 32 bytes), else None.

    The message names the variable, never the value.
    """
    if check_mode(mode) != "hashed":
        return None
    # Stripped as Secrets Manager values are (glue_jobs._args.read_secret): a trailing newline
    # must not make the same key hash differently on Glue and locally.
    raw = (key.encode() if isinstance(key, str) else key or b"").strip()
    if not raw:
        raise ValueError(
            "WVI_PII=hashed needs a secret key in WVI_PII_KEY (at least 32 bytes, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`): an unkeyed hash "
            "of an IP address is reversed by hashing every address"
        )
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(f"WVI_PII_KEY must be at least {MIN_KEY_BYTES} bytes, not {len(raw)}")
    return raw


def _keyed(value: str, key: bytes | None) -> str:
    if key is None:
        raise ValueError("hashed mode needs a key (check_key)")
    return _hmac_hex(key, value)


# ---------------------------------------------------------------- Python (reference)
def mask_ip(ip: str | None) -> str | None:
    """The masked form of an IP address, or None if `ip` is not one."""
    if ip is None:
        return None
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0].strip())
    except ValueError:
        return None
    if address.version == 4:
        return str(ipaddress.ip_network(f"{address}/24", strict=False).network_address)
    return str(ipaddress.ip_network(f"{address}/48", strict=False).network_address)


def protect_ip(ip: str | None, mode: str = "masked", key: bytes | None = None) -> str | None:
    mode = check_mode(mode)
    if ip is None or mode == "raw":
        return ip
    if mode == "hashed":
        return _keyed(ip, key)
    return mask_ip(ip)


def protect_email(email: str | None, mode: str = "masked", key: bytes | None = None) -> str | None:
    mode = check_mode(mode)
    if email is None or mode == "raw":
        return email
    trimmed = email.strip(" ").lower()  # Spark's `trim` removes spaces only
    if not trimmed:
        return None
    if mode == "hashed":
        return _keyed(trimmed, key)
    return hashlib.sha256(trimmed.encode()).hexdigest()


# ---------------------------------------------------------------- Spark
def mask_ip_col(ip: Column) -> Column:
    """`mask_ip` as a native Spark expression (the IPv6 part only runs for addresses with ':')."""
    octets = F.split(ip, r"\.")
    in_range = F.greatest(*[octets[i].cast("int") for i in range(4)]) <= 255
    masked_v4 = F.when(
        ip.rlike(_V4_SHAPE) & in_range, F.concat(F.substring_index(ip, ".", 3), F.lit(".0"))
    )
    # IPv4 first: the common case stays in compiled code (the IPv6 branch is not compiled).
    return F.coalesce(masked_v4, F.when(F.instr(ip, ":") > 0, _mask_ipv6(ip)))


def _mask_ipv6(ip: Column) -> Column:
    """The first 48 bits of an IPv6 address in RFC 5952 form (`::` expanded with arrays)."""
    addr = F.lower(F.trim(F.regexp_replace(ip, "%.*$", "")))
    compressed = F.instr(addr, "::") > 0
    head = F.when(compressed, F.substring_index(addr, "::", 1)).otherwise(addr)
    tail = F.when(compressed, F.substring_index(addr, "::", -1)).otherwise(F.lit(""))
    empty = F.array().cast("array<string>")

    def groups(part: Column) -> Column:
        return F.when(part == "", empty).otherwise(F.split(part, ":"))

    def width(part: Column) -> Column:  # an embedded IPv4 counts as two groups
        return F.size(groups(part)) + F.when(F.instr(part, ".") > 0, 1).otherwise(0)

    used = width(head) + width(tail)
    zeros = F.array_repeat(F.lit("0"), F.greatest(F.lit(0), 8 - used))
    full = F.when(compressed, F.concat(groups(head), zeros, groups(tail))).otherwise(groups(head))
    first = F.transform(
        F.slice(full, 1, 3),
        lambda g: F.coalesce(F.nullif(F.regexp_replace(g, "^0+", ""), F.lit("")), F.lit("0")),
    )
    a, b, c = first[0], first[1], first[2]
    canonical = (
        F.when(c != "0", F.concat_ws(":", a, b, c, F.lit(":")))
        .when(b != "0", F.concat_ws(":", a, b, F.lit(":")))
        .when(a != "0", F.concat(a, F.lit("::")))
        .otherwise(F.lit("::"))
    )
    valid = (
        addr.rlike(_V6_CHARS)
        & ~addr.rlike(_V6_BAD)
        & (F.size(F.split(addr, "::")) <= 2)
        & F.when(compressed, used <= 7).otherwise(used == 8)
        & (~addr.contains(".") | addr.rlike(_V6_TAIL_V4))
    )
    return F.when(valid, canonical)


def hmac_sha256_col(value: Column, key: bytes) -> Column:
    """HMAC-SHA256 (RFC 2104) of a string column as lowercase hex; nulls stay null.

    A pandas UDF that closes over the key, not native `sha2` over key-derived literals: a
    literal is printed in Spark's plans, which `explain`, the Spark UI's event logs and many
    analysis errors show, and the padded key blocks give the key back.
    """
    digest = partial(_hmac_hex, key)

    @F.pandas_udf("string")  # type: ignore[call-overload]
    def hmac_sha256(values: pd.Series) -> pd.Series:
        return values.map(digest, na_action="ignore")

    return hmac_sha256(value)


def _hmac_hex(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def protect_ip_col(ip: Column, mode: str = "masked", key: bytes | None = None) -> Column:
    mode = check_mode(mode)
    if mode == "raw":
        return ip
    if mode == "hashed":
        return hmac_sha256_col(ip, check_key(mode, key))  # type: ignore[arg-type]
    return mask_ip_col(ip)


def protect_email_col(email: Column, mode: str = "masked", key: bytes | None = None) -> Column:
    mode = check_mode(mode)
    if mode == "raw":
        return email
    trimmed = F.lower(F.trim(email))
    if mode == "hashed":
        return F.when(trimmed != "", hmac_sha256_col(trimmed, check_key(mode, key)))  # type: ignore[arg-type]
    return F.when(trimmed != "", F.sha2(trimmed, 256))


__all__ = [
    "MIN_KEY_BYTES",
    "PII_MODES",
    "check_key",
    "check_mode",
    "hmac_sha256_col",
    "mask_ip",
    "mask_ip_col",
    "protect_email",
    "protect_email_col",
    "protect_ip",
    "protect_ip_col",
]

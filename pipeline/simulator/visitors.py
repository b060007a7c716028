"""Synthetic visitors: every attribute is a pure function of (seed, visitor index).

Nothing is stored per visitor, so the pool can hold millions of visitors for free. The visitor
key is built from a bijective hash of the index, which lets `index_of` invert a key in O(1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.simulator.hashing import field_hash, mix64, salt, unit, unmix64

# (country, region, city, lat, lon, weight) — a small world, weighted like an English-language
# direct-response audience.
GEO: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("US", "CA", "Los Angeles", 34.0522, -118.2437, 6.0),
    ("US", "NY", "New York", 40.7128, -74.0060, 6.0),
    ("US", "TX", "Austin", 30.2672, -97.7431, 3.0),
    ("US", "TX", "Houston", 29.7604, -95.3698, 3.0),
    ("US", "FL", "Miami", 25.7617, -80.1918, 3.0),
    ("US", "IL", "Chicago", 41.8781, -87.6298, 3.0),
    ("US", "WA", "Seattle", 47.6062, -122.3321, 2.0),
    ("US", "GA", "Atlanta", 33.7490, -84.3880, 2.0),
    ("US", "AZ", "Phoenix", 33.4484, -112.0740, 2.0),
    ("US", "CO", "Denver", 39.7392, -104.9903, 2.0),
    ("US", "OH", "Columbus", 39.9612, -82.9988, 1.5),
    ("US", "NC", "Charlotte", 35.2271, -80.8431, 1.5),
    ("CA", "ON", "Toronto", 43.6532, -79.3832, 2.5),
    ("CA", "BC", "Vancouver", 49.2827, -123.1207, 1.5),
    ("GB", "ENG", "London", 51.5074, -0.1278, 3.0),
    ("GB", "ENG", "Manchester", 53.4808, -2.2426, 1.0),
    ("AU", "NSW", "Sydney", -33.8688, 151.2093, 2.0),
    ("AU", "VIC", "Melbourne", -37.8136, 144.9631, 1.5),
    ("NZ", "AUK", "Auckland", -36.8485, 174.7633, 0.5),
    ("IE", "L", "Dublin", 53.3498, -6.2603, 0.5),
    ("DE", "BE", "Berlin", 52.5200, 13.4050, 0.8),
    ("NL", "NH", "Amsterdam", 52.3676, 4.9041, 0.5),
    ("FR", "IDF", "Paris", 48.8566, 2.3522, 0.5),
    ("IN", "MH", "Mumbai", 19.0760, 72.8777, 1.0),
    ("PH", "00", "Manila", 14.5995, 120.9842, 1.0),
    ("SG", "01", "Singapore", 1.3521, 103.8198, 0.4),
    ("AE", "DU", "Dubai", 25.2048, 55.2708, 0.4),
    ("ZA", "GT", "Johannesburg", -26.2041, 28.0473, 0.4),
    ("BR", "SP", "Sao Paulo", -23.5505, -46.6333, 0.6),
    ("MX", "CMX", "Mexico City", 19.4326, -99.1332, 0.6),
)

ORGS: dict[str, tuple[str, ...]] = {
    "US": (
        "Comcast Cable Communications",
        "Charter Communications",
        "AT&T Services",
        "Verizon Business",
        "T-Mobile USA",
        "Cox Communications",
    ),
    "CA": ("Rogers Communications", "Bell Canada", "Telus Communications"),
    "GB": ("British Telecommunications PLC", "Virgin Media", "Sky UK Limited"),
    "AU": ("Telstra Corporation", "TPG Telecom", "Optus"),
}
DEFAULT_ORGS = ("Vodafone Group", "Orange S.A.", "Amazon.com", "Google LLC", "Local ISP")

# (browser, platform, mobile, versions, weight)
DEVICES: tuple[tuple[str, str, bool, tuple[str, ...], float], ...] = (
    ("Chrome", "windows", False, ("122", "123", "124", "125"), 28.0),
    ("Chrome", "mac", False, ("123", "124", "125"), 12.0),
    ("Safari", "mac", False, ("16", "17"), 8.0),
    ("Edge", "windows", False, ("122", "124"), 7.0),
    ("Firefox", "windows", False, ("124", "125"), 4.0),
    ("Chrome", "linux", False, ("124",), 1.0),
    ("Mobile Safari", "ios", True, ("16", "17"), 22.0),
    ("Chrome Mobile", "android", True, ("123", "124"), 15.0),
    ("Samsung Internet", "android", True, ("24", "25"), 3.0),
)

FIRST_NAMES = (
    "alex",
    "jamie",
    "sam",
    "taylor",
    "jordan",
    "casey",
    "morgan",
    "riley",
    "drew",
    "kim",
)
LAST_NAMES = ("smith", "jones", "brown", "garcia", "miller", "davis", "lopez", "wilson", "lee")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
KNOWN_EMAIL_SHARE = 0.05
IPV6_SHARE = 0.07

FIELDS = (
    "visitor_key",
    "ip",
    "org",
    "country",
    "region",
    "city",
    "lat",
    "lon",
    "browser",
    "browser_version",
    "platform",
    "mobile",
    "identity_email",
    "first_name",
    "last_name",
    "known",
)

_GEO_CUM = np.cumsum([g[5] for g in GEO]) / sum(g[5] for g in GEO)
_DEV_CUM = np.cumsum([d[4] for d in DEVICES]) / sum(d[4] for d in DEVICES)

# Field numbers for `field_hash`: each attribute draws from its own hash stream.
_F_KEY1, _F_KEY2, _F_GEO, _F_JIT1, _F_JIT2, _F_DEV, _F_VER, _F_ORG = range(8)
_F_IP, _F_IP6, _F_EMAIL, _F_NAME = range(8, 12)


class VisitorPool:
    """An account-wide pool of `size` visitors derived from `seed`."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = max(1, int(size))
        self._salt = salt(seed, 0x5649)

    def _base(self, idx: np.ndarray) -> np.ndarray:
        return mix64(np.asarray(idx, dtype=np.int64).astype(np.uint64) ^ np.uint64(self._salt))

    def keys(self, idx: np.ndarray) -> list[str]:
        """Visitor keys (40 upper-case hex characters) of the given indices."""
        base = self._base(idx)
        k1 = field_hash(base, _F_KEY1)
        k2 = field_hash(base, _F_KEY2)
        return [
            f"{a:016X}{b:016X}{c >> 32:08X}"
            for a, b, c in zip(base.tolist(), k1.tolist(), k2.tolist(), strict=True)
        ]

    def index_of(self, key: str) -> int | None:
        """The visitor index behind `key`, or None when no visitor of this pool has it."""
        try:
            head = int(key[:16], 16)
        except ValueError:
            return None
        idx = unmix64(head) ^ self._salt
        if idx >= self.size or self.keys(np.array([idx]))[0] != key.upper():
            return None
        return idx

    def rows(self, idx: np.ndarray) -> list[tuple[Any, ...]]:
        """One tuple of attributes (in `FIELDS` order) per index."""
        cols = self.columns(idx)
        return list(zip(*(cols[f] for f in FIELDS), strict=True))

    def columns(self, idx: np.ndarray) -> dict[str, list[Any]]:
        """All visitor attributes for an array of indices, as parallel lists (vectorised)."""
        idx = np.asarray(idx, dtype=np.int64)
        base = self._base(idx)
        cols: dict[str, list[Any]] = {"visitor_key": self.keys(idx)}
        cols.update(self._geo(base))
        cols.update(self._device(base))
        cols["ip"] = self._ips(base)
        cols.update(self._identity(base))
        return cols

    def _geo(self, base: np.ndarray) -> dict[str, list[Any]]:
        g = np.searchsorted(_GEO_CUM, unit(field_hash(base, _F_GEO)), side="right")
        g = np.minimum(g, len(GEO) - 1)
        # Jitter around the city centre so that lat/lon are not all identical.
        jit_lat = (unit(field_hash(base, _F_JIT1)) - 0.5) * 0.2
        jit_lon = (unit(field_hash(base, _F_JIT2)) - 0.5) * 0.2
        org_u = unit(field_hash(base, _F_ORG))
        rows = [GEO[i] for i in g.tolist()]
        orgs = [ORGS.get(r[0], DEFAULT_ORGS) for r in rows]
        return {
            "country": [r[0] for r in rows],
            "region": [r[1] for r in rows],
            "city": [r[2] for r in rows],
            "lat": [round(r[3] + j, 4) for r, j in zip(rows, jit_lat.tolist(), strict=True)],
            "lon": [round(r[4] + j, 4) for r, j in zip(rows, jit_lon.tolist(), strict=True)],
            "org": [o[int(u * len(o))] for o, u in zip(orgs, org_u.tolist(), strict=True)],
        }

    def _device(self, base: np.ndarray) -> dict[str, list[Any]]:
        d = np.searchsorted(_DEV_CUM, unit(field_hash(base, _F_DEV)), side="right")
        d = np.minimum(d, len(DEVICES) - 1)
        ver_u = unit(field_hash(base, _F_VER)).tolist()
        rows = [DEVICES[i] for i in d.tolist()]
        return {
            "browser": [r[0] for r in rows],
            "platform": [r[1] for r in rows],
            "mobile": [r[2] for r in rows],
            "browser_version": [r[3][int(u * len(r[3]))] for r, u in zip(rows, ver_u, strict=True)],
        }

    def _ips(self, base: np.ndarray) -> list[str]:
        h = field_hash(base, _F_IP)
        six = unit(field_hash(base, _F_IP6)) < IPV6_SHARE
        out = []
        for v, is6 in zip(h.tolist(), six.tolist(), strict=True):
            if is6:
                groups = [(v >> s) & 0xFFFF for s in range(0, 64, 16)]
                out.append("2600:" + ":".join(f"{g:x}" for g in groups) + ":1:2:3")
            else:
                # First octet 11..223 but not 127: public-looking unicast space.
                a = 11 + (v & 0xFF) % 213
                a = 128 if a == 127 else a
                out.append(f"{a}.{(v >> 8) & 0xFF}.{(v >> 16) & 0xFF}.{1 + (v >> 24) % 254}")
        return out

    def _identity(self, base: np.ndarray) -> dict[str, list[Any]]:
        h = field_hash(base, _F_NAME).tolist()
        known = (unit(field_hash(base, _F_EMAIL)) < KNOWN_EMAIL_SHARE).tolist()
        first = [FIRST_NAMES[v % len(FIRST_NAMES)] for v in h]
        last = [LAST_NAMES[(v >> 8) % len(LAST_NAMES)] for v in h]
        emails = [
            f"{f}.{la}{(v >> 16) % 1000}@{EMAIL_DOMAINS[(v >> 32) % len(EMAIL_DOMAINS)]}"
            for f, la, v in zip(first, last, h, strict=True)
        ]
        return {"first_name": first, "last_name": last, "identity_email": emails, "known": known}

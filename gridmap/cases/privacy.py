"""What of a resident's report may be shown: masked phones, a snapped location, the street only.

Pure functions (no Flask, no database), the one copy of these rules: the case pages mask the
reporter's phone with :func:`mask_phone` (phone-like text anywhere: :func:`mask_phones_in`), and
the public faces of a case (Open311 today) snap the point with :func:`public_point` and cut the
address with :func:`street_only`; they show none of the resident's own text.
"""

from __future__ import annotations

import re

_DIGIT = "[0-9\uff10-\uff19]"  # ASCII and full-width digits
# One separator between digit groups: spaces (also no-break and ideographic), hyphens and dashes
# (also the full-width and minus signs people type on phones).
_SEP = "[ \u00a0\u3000\\-\u2010-\u2015\u2212\uff0d]"
_PHONE = re.compile(
    rf"(?<!{_DIGIT})"
    rf"(?P<cc>(?:\+|\uff0b|00)(?:86|\uff18\uff16){_SEP}?)?"  # +86, 0086, ＋８６
    rf"(?P<number>(?:[(\uff08]{_DIGIT}{{2,4}}[)\uff09]{_SEP}?)?"  # (024) area code
    rf"{_DIGIT}+(?:{_SEP}{_DIGIT}{{3,8}})*)"  # 13812345678, 138-1234-5678, 024 2345 6789
    rf"(?!{_DIGIT})")
_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")
MIN_PHONE_DIGITS = 7
"""Fewer digits than a local landline number (2345678) are not a phone: left as written."""

# Where the house number starts: a digit, or a Chinese numeral before a number word (三号, 五栋).
# Street names with numerals (十一纬路, 北二马路) have no such word and are kept whole.
_HOUSE_NUMBER = re.compile(r"[0-9\uff10-\uff19]|[一二三四五六七八九十百千零〇两]+\s*"
                           r"(?:号|栋|幢|座|单元|室|楼|层|弄|排)")
_TRAILING = " \t,，、.。;；:：#＃-－—(（"

PUBLIC_GRID_DEG = 0.0005
"""Public locations are snapped to a 0.0005° grid: cells of 55.7 m (north-south) × 41.5 m
(east-west at Shenyang's 41.8° N), so a shown point is at most ~35 m from the true one and
never names a single building; 0.001° (111 m × 83 m) would blur whole courtyards together."""


def _masked_digits(digits: str) -> str:
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group("number").translate(_TO_ASCII))
    if len(digits) < MIN_PHONE_DIGITS:
        return match.group(0)
    prefix = "+86 " if match.group("cc") else ""
    return prefix + _masked_digits(digits)


def mask_phones_in(text: str) -> str:
    """``text`` with every phone-like number masked to its first 3 and last 4 digits.

    Written forms: 13812345678, 138-1234-5678, 138 1234 5678, +86 / 0086 prefixes, full-width
    digits (１３８…), landlines (024-2345-6789, (024) 23456789, 23456789). Masked numbers are
    written in ASCII without separators (``138****5678``, ``+86 138****5678``).
    """
    return _PHONE.sub(_mask_match, text)


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it.

    A value with no phone-like number in it is replaced by stars of its length.
    """
    value = phone.strip()
    masked = mask_phones_in(value)
    return masked if masked != value else "*" * len(value)


def public_point(lon: float, lat: float) -> tuple[float, float]:
    """The point snapped to the public grid (see :data:`PUBLIC_GRID_DEG`)."""
    steps = round(1 / PUBLIC_GRID_DEG)
    return round(round(lon * steps) / steps, 4), round(round(lat * steps) / steps, 4)


def street_only(address: str) -> str:
    """The address up to its house number (大西路 5 号 → 大西路); empty if it starts with one."""
    found = _HOUSE_NUMBER.search(address)
    kept = address if found is None else address[: found.start()]
    return kept.strip().rstrip(_TRAILING).strip()

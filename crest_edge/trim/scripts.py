"""Which Unicode scripts each language is written in, the language packs, and the code point ranges
of a set of scripts. The language -> scripts table is the one place this fact lives.

Common (digits, punctuation, symbols, emoji) and Inherited (combining marks, ZWJ/ZWNJ) are shared by
every script and always served. Ranges are computed with the `regex` package (Unicode `Script`
property) at trimming time and stored with the trimmed model, so the runtime needs no Unicode tables.
"""

from __future__ import annotations

from ..errors import CrestEdgeError
from ..extras import require

ALWAYS = ("Common", "Inherited")

_BY_SCRIPT = {
    "Latin": "af az ca cs cy da de en es et eu fi fr ga gl hr hu id is it lt lv ms mt nl no pl pt ro sk sl sq sv "
    "sw tl tr uz vi",
    "Cyrillic": "be bg kk ky mk mn ru sr tg uk",
    "Greek": "el",
    "Armenian": "hy",
    "Georgian": "ka",
    "Arabic": "ar fa ku ps sd ug ur",
    "Hebrew": "he yi",
    "Devanagari": "hi mr ne sa",
    "Bengali": "as bn",
    "Gurmukhi": "pa",
    "Gujarati": "gu",
    "Oriya": "or",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Sinhala": "si",
    "Thai": "th",
    "Lao": "lo",
    "Khmer": "km",
    "Myanmar": "my",
    "Ethiopic": "am",
    "Han": "zh yue ja ko",
    "Hiragana": "ja",
    "Katakana": "ja",
    "Hangul": "ko",
}
LANGUAGE_SCRIPTS: dict[str, tuple[str, ...]] = {}
for _script, _codes in _BY_SCRIPT.items():
    for _code in _codes.split():
        LANGUAGE_SCRIPTS[_code] = (*LANGUAGE_SCRIPTS.get(_code, ()), _script)
LANGUAGE_SCRIPTS["sr"] = ("Cyrillic", "Latin")  # Serbian is written in both
KNOWN_SCRIPTS = tuple(_BY_SCRIPT)
# BCP 47 script subtags the project's corpora use ("hi-Latn": romanized Hindi)
SCRIPT_TAGS = {"Latn": "Latin", "Cyrl": "Cyrillic", "Hant": "Han", "Hans": "Han", "Arab": "Arabic"}

PACKS = {
    "europe": ("en", "de", "fr", "es", "it", "pt", "nl", "pl"),
    "indic": ("hi", "bn", "ta", "te", "mr", "gu", "kn", "ml"),
}


def expand_languages(items) -> list[str]:
    """Language codes from a list of codes and pack names ("europe", "indic"), in order, without repeats;
    CrestEdgeError naming every unknown item."""
    out, unknown = [], []
    for item in items:
        item = item.strip()
        if not item:
            continue
        codes = PACKS.get(item) or ((item,) if item in LANGUAGE_SCRIPTS else None)
        if codes is None:
            unknown.append(item)
            continue
        out.extend(c for c in codes if c not in out)
    if unknown:
        raise CrestEdgeError(
            f"unknown language or pack {', '.join(map(repr, unknown))}; packs: {', '.join(PACKS)}; "
            f"languages: {' '.join(sorted(LANGUAGE_SCRIPTS))}"
        )
    if not out:
        raise CrestEdgeError("no languages given")
    return out


def scripts_of(languages) -> list[str]:
    """The scripts `languages` are written in, in table order."""
    wanted = {s for code in languages for s in LANGUAGE_SCRIPTS[code]}
    return [s for s in KNOWN_SCRIPTS if s in wanted]


def _all_code_points() -> str:
    return "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))


def script_ranges(scripts) -> list[list[int]]:
    """Inclusive [first, last] code point ranges of the characters whose Script is one of `scripts`
    or Common / Inherited, sorted and merged."""
    regex = require("regex", "trimming by Unicode script")
    names = [*ALWAYS, *scripts]
    pattern = regex.compile("[" + "".join(rf"\p{{Script={name}}}" for name in names) + "]+")
    text = _all_code_points()
    ranges: list[list[int]] = []
    for match in pattern.finditer(text):
        start, end = match.start(), match.end() - 1
        # positions past the surrogate gap are 0x800 code points further on
        for a, b in ((start, min(end, 0xD7FF)), (max(start, 0xD800), end)):
            if a <= b:
                first, last = (a, b) if a < 0xD800 else (a + 0x800, b + 0x800)
                if ranges and ranges[-1][1] + 1 == first:
                    ranges[-1][1] = last
                else:
                    ranges.append([first, last])
    return ranges


def scripts_in(texts, min_count: int = 1) -> list[str]:
    """The known scripts (not Common / Inherited) with at least `min_count` characters in `texts`."""
    regex = require("regex", "trimming by Unicode script")
    counts = dict.fromkeys(KNOWN_SCRIPTS, 0)
    patterns = {s: regex.compile(rf"\p{{Script={s}}}") for s in KNOWN_SCRIPTS}
    chars: dict[str, int] = {}
    for text in texts:
        for c in text:
            chars[c] = chars.get(c, 0) + 1
    for c, n in chars.items():
        for script, pattern in patterns.items():
            if pattern.match(c):
                counts[script] += n
                break
    return [s for s in KNOWN_SCRIPTS if counts[s] >= min_count]

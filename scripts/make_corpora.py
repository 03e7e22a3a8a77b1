#!/usr/bin/env python3
"""Regenerate the project's own corpora from the phrase tables in scripts/corpora/ (plain JSON data;
see scripts/corpora/README.md for how they are laid out and authored).

    python scripts/make_corpora.py           # write crest_edge/data/{seed,parity}.jsonl
    python scripts/make_corpora.py --check   # exit 1 if the files on disk are out of date

Both corpora are authored by this project (no external data set is used).  The output is
deterministic: no randomness, no set iteration, fixed orders, UTF-8 with "\n" line ends, so
running the script twice gives byte-identical files.

seed.jsonl   {"text", "label", "lang"}            training prompts for the demo classifier
parity.jsonl {"text", "lang", "script", "label"}  prompts used to compare quantized models to fp32
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from itertools import zip_longest
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLES = HERE / "corpora"
DATA = HERE.parent / "crest_edge" / "data"
SEED_PATH, PARITY_PATH = DATA / "seed.jsonl", DATA / "parity.jsonl"


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _per_language(folder: Path) -> dict:
    """{lang: table} in the order of the folder's index.txt (the order fixes the generated files)."""
    langs = (folder / "index.txt").read_text(encoding="utf-8").split()
    return {lang: _json(folder / f"{lang}.json") for lang in langs}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


SEED_TABLES = _per_language(TABLES / "seed")
SEED_SCRIPTS = {lang: table["script"] for lang, table in SEED_TABLES.items()}
PARITY_NATIVE = {
    lang: (t["script"], t["safe"], t["unsafe"]) for lang, t in _per_language(TABLES / "parity" / "native").items()
}
CODE_SWITCHED = {lang: (t["safe"], t["unsafe"]) for lang, t in _json(TABLES / "parity" / "code_switched.json").items()}
TRANSLITERATED = {
    lang: (t["safe"], t["unsafe"]) for lang, t in _json(TABLES / "parity" / "transliterated.json").items()
}
EMOJI = [(r["lang"], r["label"], r["text"]) for r in _jsonl(TABLES / "parity" / "emoji.jsonl")]
RTL_MIXED = [(r["lang"], r["script"], r["label"], r["text"]) for r in _jsonl(TABLES / "parity" / "rtl_mixed.jsonl")]
OBFUSCATED = [(r["lang"], r["label"], r["text"]) for r in _jsonl(TABLES / "parity" / "obfuscated.jsonl")]
REQUIRED_SCRIPTS = [
    "Latin",
    "Cyrillic",
    "Greek",
    "Armenian",
    "Georgian",
    "Hebrew",
    "Arabic",
    "Devanagari",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Sinhala",
    "Thai",
    "Lao",
    "Khmer",
    "Myanmar",
    "Ethiopic",
    "Hangul",
    "Han",
    "Kana",
    "Mixed",
    "Symbols",
]
# Unicode character-name prefixes -> script names used in the corpora (for self-checks only).
NAME_PREFIX = {
    "LATIN": "Latin",
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
    "ARMENIAN": "Armenian",
    "GEORGIAN": "Georgian",
    "HEBREW": "Hebrew",
    "ARABIC": "Arabic",
    "DEVANAGARI": "Devanagari",
    "BENGALI": "Bengali",
    "GURMUKHI": "Gurmukhi",
    "GUJARATI": "Gujarati",
    "ORIYA": "Oriya",
    "TAMIL": "Tamil",
    "TELUGU": "Telugu",
    "KANNADA": "Kannada",
    "MALAYALAM": "Malayalam",
    "SINHALA": "Sinhala",
    "THAI": "Thai",
    "LAO": "Lao",
    "KHMER": "Khmer",
    "MYANMAR": "Myanmar",
    "ETHIOPIC": "Ethiopic",
    "HANGUL": "Hangul",
    "CJK": "Han",
    "HIRAGANA": "Kana",
    "KATAKANA": "Kana",
    "KATAKANA-HIRAGANA": "Kana",
}
# Characters that str.splitlines() treats as line breaks (the corpus reader uses it).
LINE_BREAKS = set("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


# ----------------------------------------------------------------------------- seed
def seed_rows() -> list[dict]:
    """Stand-alone sentences plus slot templates; safe/unsafe interleaved, languages round-robin."""
    per_lang = []
    for lang, table in SEED_TABLES.items():
        texts = {"safe": list(table["safe"]), "unsafe": list(table["unsafe"])}
        for slot in table["slots"]:
            for label, offset in (("safe", 0), ("unsafe", 1)):
                for i, filler in enumerate(slot[label]):
                    texts[label].append(slot["frames"][(i + offset) % 2].replace("{x}", filler))
        rows = []
        for safe, unsafe in zip_longest(texts["safe"], texts["unsafe"]):
            rows += [
                {"text": t, "label": lab, "lang": lang}
                for t, lab in ((safe, "safe"), (unsafe, "unsafe"))
                if t is not None
            ]
        per_lang.append(rows)
    return [rows[i] for i in range(max(map(len, per_lang))) for rows in per_lang if i < len(rows)]


# --------------------------------------------------------------- parity: transforms
HOMOGLYPHS = dict(zip("aceopxyiABCEHKMOPTX", "асеорхуіАВСЕНКМОРТХ"))  # Latin -> Cyrillic look-alikes
LEET = dict(zip("aeiost", "431057"))
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060"]  # ZWSP, ZWNJ, ZWJ, word joiner
SPACING = [
    lambda s: s.replace(" ", "\t"),
    lambda s: s.replace(" ", "  "),
    lambda s: "   " + s.replace(" ", " \t ") + "\t",
    lambda s: s.replace(" ", "    ") + "  ",
]


def homoglyph(s: str) -> str:
    out, n = [], 0
    for ch in s:
        if ch in HOMOGLYPHS:
            n += 1
            if n % 2:
                ch = HOMOGLYPHS[ch]
        out.append(ch)
    return "".join(out)


def leet(s: str) -> str:
    return "".join(LEET.get(ch.lower(), ch) for ch in s)


def fullwidth(s: str) -> str:
    return "".join("\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in s)


def alternate_case(s: str) -> str:
    out, n = [], 0
    for ch in s:
        if ch.isalpha():
            ch = ch.upper() if n % 2 else ch.lower()
            n += 1
        out.append(ch)
    return "".join(out)


def zero_width(s: str, k: int) -> str:
    words = s.split(" ")
    for j, w in enumerate(words):
        if len(w) >= 4:
            words[j] = w[: len(w) // 2] + ZERO_WIDTH[(k + j) % len(ZERO_WIDTH)] + w[len(w) // 2 :]
    return " ".join(words)


def repeat_to(sentences: list[str], chars: int) -> str:
    parts, i = [], 0
    while len(" ".join(parts)) < chars:
        parts.append(sentences[i % len(sentences)])
        i += 1
    return " ".join(parts)


# ------------------------------------------------------------------------- parity
def parity_rows() -> list[dict]:
    rows: list[dict] = []

    def add(text, lang, script, label):
        rows.append({"text": text, "lang": lang, "script": script, "label": label})

    def add_pairs(lang, script, safe, unsafe):
        for s, u in zip_longest(safe, unsafe):
            if s is not None:
                add(s, lang, script, "safe")
            if u is not None:
                add(u, lang, script, "unsafe")

    # 1. the same 7 + 7 requests written natively in every language
    for lang, (script, safe, unsafe) in PARITY_NATIVE.items():
        add_pairs(lang, script, safe, unsafe)
    # 2. code-switching and 3. transliteration
    for lang, (safe, unsafe) in CODE_SWITCHED.items():
        add_pairs(lang, "Mixed", safe, unsafe)
    for lang, (safe, unsafe) in TRANSLITERATED.items():
        add_pairs(lang, "Latin", safe, unsafe)
    # 4. hand-written tricky Unicode
    for lang, label, text in EMOJI:
        add(text, lang, "Symbols", label)
    for lang, script, label, text in RTL_MIXED:
        add(text, lang, script, label)
    for lang, label, text in OBFUSCATED:
        add(text, lang, "Symbols", label)

    # 5. mechanical variants of native lines
    def native(lang):
        script, safe, unsafe = PARITY_NATIVE[lang]
        return script, safe, unsafe

    # decomposed (NFD) forms: Vietnamese stacks two marks; Hangul splits into conjoining jamo
    for lang, picks in (
        ("vi", range(7)),
        ("fr", (0, 5)),
        ("de", (0, 5)),
        ("pl", (1, 3)),
        ("ro", (0, 4)),
        ("cs", (1, 6)),
        ("tr", (0, 4)),
        ("el", (0, 2)),
        ("ru", (4, 5)),
        ("ko", (0, 3)),
        ("ja", (0, 5)),
    ):
        script, safe, unsafe = native(lang)
        for i in picks:
            for text, label in ((safe[i], "safe"), (unsafe[i], "unsafe")):
                nfd = unicodedata.normalize("NFD", text)
                if nfd != text:
                    add(nfd, lang, script, label)
    _, en_safe, en_unsafe = native("en")
    for i in range(3):  # full-width Latin
        add(fullwidth(en_safe[i]), "en", "Symbols", "safe")
        add(fullwidth(en_unsafe[i]), "en", "Symbols", "unsafe")
    for i in range(7):  # Cyrillic homoglyphs inside Latin words
        if i < 3:
            add(homoglyph(en_safe[i + 2]), "en", "Symbols", "safe")
        add(homoglyph(en_unsafe[i]), "en", "Symbols", "unsafe")
    for i in range(5):  # leetspeak
        if i < 3:
            add(leet(en_safe[i + 4]), "en", "Symbols", "safe")
        add(leet(en_unsafe[i]), "en", "Symbols", "unsafe")
    for lang, n_safe in (("en", 4), ("es", 2)):  # zero-width characters inside words
        _, safe, unsafe = native(lang)
        for i in range(n_safe):
            add(zero_width(safe[i], i), lang, "Symbols", "safe")
        for i in range(7 if lang == "en" else 2):
            add(zero_width(unsafe[i], i), lang, "Symbols", "unsafe")
    for i in range(3):  # mixed case
        add(alternate_case(en_safe[i + 1]), "en", "Latin", "safe")
        add(alternate_case(en_unsafe[i + 3]), "en", "Latin", "unsafe")
    for i in range(2):  # lower case, no final punctuation
        add(en_safe[i + 5].lower().rstrip("?.!"), "en", "Latin", "safe")
        add(en_unsafe[i + 5].lower().rstrip("?.!"), "en", "Latin", "unsafe")
    for lang in ("en", "es", "de", "tr", "ru", "el"):  # ALL CAPS (str.upper: no Turkish dotted İ)
        script, safe, unsafe = native(lang)
        add(safe[1].upper(), lang, script, "safe")
        add(unsafe[1].upper(), lang, script, "unsafe")
    for lang in ("en", "es", "ru", "ar", "hi"):  # tabs and runs of spaces
        script, safe, unsafe = native(lang)
        for i in range(2):
            add(SPACING[i * 2](safe[i + 2]), lang, script, "safe")
            add(SPACING[i * 2 + 1](unsafe[i + 2]), lang, script, "unsafe")
    for lang in ("en", "es", "ru", "ar", "hi", "zh", "ja", "ko", "th", "am", "ka", "ta"):  # ~1,000 chars
        script, safe, unsafe = native(lang)
        add(repeat_to([safe[3]], 1000), lang, script, "safe")
        add(repeat_to([unsafe[0]], 1000), lang, script, "unsafe")
    for lang in ("en", "es", "ru", "hi"):  # long benign text, with and without an unsafe request at the end
        script, safe, unsafe = native(lang)
        add(repeat_to(safe, 1000), lang, script, "safe")
        add(repeat_to(safe, 900) + " " + unsafe[2], lang, script, "unsafe")
    return rows


# ----------------------------------------------------------------------- checking
def letter_scripts(text: str) -> Counter:
    counts = Counter()
    for ch in text:  # letters and marks, so Indic vowel signs count; generic combining marks do not
        prefix = unicodedata.name(ch, "").split(" ")[0]
        if unicodedata.category(ch)[0] in "LM" and prefix != "COMBINING":
            counts[NAME_PREFIX.get(prefix, "other")] += 1
    return counts


def check_text(text: str, where: str, plain: bool) -> None:
    assert isinstance(text, str) and text.strip(), f"{where}: empty text"
    assert "\x00" not in text, f"{where}: NUL"
    assert not LINE_BREAKS & set(text), f"{where}: line break inside text: {text!r}"
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text), f"{where}: lone surrogate"
    text.encode("utf-8")
    if plain:
        assert text == text.strip() and "  " not in text and "\t" not in text, f"{where}: stray whitespace {text!r}"


def check_script(text: str, script: str, where: str) -> None:
    """Declared script must be the main one; embedded Latin (brand names, code) is allowed."""
    if script in ("Mixed", "Symbols"):
        return
    counts = letter_scripts(text)
    assert "other" not in counts, f"{where}: unexpected characters in {text!r}"
    if script == "Latin":
        assert set(counts) == {"Latin"}, f"{where}: non-Latin letters {counts} in {text!r}"
        return
    own = Counter({k: v for k, v in counts.items() if k != "Latin"})
    if script == "Kana":
        assert own["Kana"] and set(own) <= {"Kana", "Han"}, f"{where}: {counts} in {text!r}"
    else:
        assert own and own.most_common(1)[0][0] == script and len(own) == 1, f"{where}: {counts} in {text!r}"


def folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def verify(seed: list[dict], parity: list[dict]) -> None:
    for n, row in enumerate(seed, 1):
        where = f"seed:{n}"
        assert set(row) == {"text", "label", "lang"} and row["label"] in ("safe", "unsafe"), where
        check_text(row["text"], where, plain=True)
        check_script(row["text"], SEED_SCRIPTS[row["lang"]], where)
    seed_texts = [r["text"] for r in seed]
    assert len(set(seed_texts)) == len(seed_texts), [t for t, c in Counter(seed_texts).items() if c > 1]
    for n, row in enumerate(parity, 1):
        where = f"parity:{n}"
        assert set(row) == {"text", "lang", "script", "label"} and row["label"] in ("safe", "unsafe"), where
        check_text(row["text"], where, plain=False)
        check_script(row["text"], row["script"], where)
    hand_written = [t for _, safe, unsafe in PARITY_NATIVE.values() for t in safe + unsafe]
    hand_written += [t for table in (CODE_SWITCHED, TRANSLITERATED) for s, u in table.values() for t in s + u]
    for text in hand_written:
        check_text(text, "phrase table", plain=True)
    parity_texts = [r["text"] for r in parity]
    assert len(set(parity_texts)) == len(parity_texts), [t for t, c in Counter(parity_texts).items() if c > 1]
    seed_folded = {folded(t) for t in seed_texts}
    overlap = [t for t in parity_texts if folded(t) in seed_folded]
    assert not overlap, f"parity reuses seed texts: {overlap}"

    # minimums from the brief
    seed_langs = Counter(r["lang"] for r in seed)
    seed_labels = Counter(r["label"] for r in seed)
    assert len(seed) >= 1000 and len(seed_langs) >= 22, (len(seed), len(seed_langs))
    assert abs(seed_labels["safe"] - seed_labels["unsafe"]) <= 0.05 * len(seed), seed_labels
    assert max(seed_langs.values()) <= 1.2 * min(seed_langs.values()), seed_langs
    for lang in seed_langs:
        per = Counter(r["label"] for r in seed if r["lang"] == lang)
        assert per["safe"] == per["unsafe"], (lang, per)
    parity_bases = {r["lang"].split("-")[0] for r in parity}
    parity_scripts = Counter(r["script"] for r in parity)
    assert len(parity_bases) >= 64, len(parity_bases)
    assert len(set(parity_scripts) - {"Mixed", "Symbols"}) >= 22, parity_scripts
    assert set(REQUIRED_SCRIPTS) <= set(parity_scripts), set(REQUIRED_SCRIPTS) - set(parity_scripts)
    assert 1200 <= len(parity) <= 1800, len(parity)
    assert any(len(t) >= 1000 for t in parity_texts)
    parity_labels = Counter(r["label"] for r in parity)
    assert abs(parity_labels["safe"] - parity_labels["unsafe"]) <= 0.1 * len(parity), parity_labels


# ------------------------------------------------------------------------ output
def render(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def summary(name: str, rows: list[dict], keys: list[str]) -> None:
    print(f"{name}: {len(rows)} lines")
    for key in keys:
        counts = Counter(r[key] for r in rows)
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        print(f"  {key} ({len(counts)}): " + ", ".join(f"{k} {v}" for k, v in items))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the files on disk")
    args = parser.parse_args()
    seed, parity = seed_rows(), parity_rows()
    verify(seed, parity)
    outputs = {SEED_PATH: render(seed), PARITY_PATH: render(parity)}
    if args.check:
        stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
        for p in stale:
            print(f"out of date: {p} (run python scripts/make_corpora.py)")
        return 1 if stale else 0
    DATA.mkdir(parents=True, exist_ok=True)
    for path, data in outputs.items():
        path.write_bytes(data)
    summary(f"{SEED_PATH.relative_to(HERE.parent)}", seed, ["label", "lang"])
    summary(f"{PARITY_PATH.relative_to(HERE.parent)}", parity, ["label", "script", "lang"])
    bases = {r["lang"].split("-")[0] for r in parity}
    print(
        f"  parity base languages: {len(bases)}; "
        f"scripts other than Mixed/Symbols: {len({r['script'] for r in parity} - {'Mixed', 'Symbols'})}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

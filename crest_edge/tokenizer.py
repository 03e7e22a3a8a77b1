"""XLM-R tokenizer: transformers-exact ids, with sentencepiece and the standard library only.

The reference is `transformers.XLMRobertaTokenizer.from_pretrained(dir)` (transformers 5.x, backed by
`tokenizers` 0.2x): `input_ids == [BOS_ID] + encode(text) + [EOS_ID]`. The pipeline transformers builds
from `sentencepiece.bpe.model`, and how it differs from running sentencepiece itself:

1. Added tokens: `<s> <pad> </s> <unk> <mask>` (and any control / user-defined piece of the model) are
   cut out of the *raw* text first, leftmost-longest; the chunks in between are processed on their own.
   sentencepiece has no such step (it would spell "<mask>" with ordinary pieces).
2. Normalizer `Precompiled(charsmap)`: the model's own nmt_nfkc map, but applied the `tokenizers` way:
   it walks extended grapheme clusters (UAX #29, Unicode 16 in tokenizers 0.23); a cluster shorter
   than 6 UTF-8 bytes that has *any* prefix in the map becomes the replacement of its *shortest* such
   prefix, the rest of the cluster being dropped (U+FB01 U+0301 -> "fi"; "e" U+0301 U+0323 -> U+00E9);
   any other cluster is mapped character by character, so longer clusters are never composed
   (U+1100 U+1161 stays two jamo). sentencepiece applies the longest match at each position instead.
3. No whitespace rule in the normalizer; the pre-tokenizer `WhitespaceSplit` splits on Unicode
   White_Space (which includes U+0085, kept by nmt_nfkc: sentencepiece only knows " "), then
   `Metaspace(prepend_scheme="always", split=True)` prepends U+2581 to each word unless it starts with
   one, and splits every word before each U+2581 (a literal U+2581 in the text starts a new piece).
4. A `Unigram` model over the fairseq vocabulary `<s> <pad> </s> <unk>` + sentencepiece pieces 3.. +
   `<mask>`. There the specials are ordinary pieces scored 0.0, so a word that becomes "<s>" only after
   normalization (full-width "＜s＞") is segmented with them. Unknown characters get `<unk>`, a run of
   them one `<unk>`. Paths are summed in float64 and the first best path wins; sentencepiece sums in
   float32, which breaks exact ties differently ("555" -> "5"+"55" vs "55"+"5").

All four are reproduced here: sentencepiece loads and checks the model and hands over its pieces and
scores; the charsmap (a darts-clone double array) is read directly; grapheme clusters come from the
tables below (Grapheme_Cluster_Break, Extended_Pictographic, Indic_Conjunct_Break as tokenizers 0.23
sees them, i.e. Unicode 16; the test suite probes every code point of planes 0-1 against it).

A checkpoint that only ships `tokenizer.json` is served by `JsonTokenizer` through the `tokenizers`
package, rebuilt the way transformers 5.x rebuilds an XLM-R tokenizer.json.
"""
from __future__ import annotations

import base64
import bisect
import json
import re
import struct
import zlib
from pathlib import Path

import sentencepiece as spm

from .errors import ArtifactError

SPM_FILE = "sentencepiece.bpe.model"
JSON_FILE = "tokenizer.json"
TOKENIZER_FILES = (SPM_FILE, JSON_FILE)
BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
FAIRSEQ_OFFSET = 1
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")  # fairseq ids 0..3; "<mask>" is the last id
MASK_TOKEN = "<mask>"

_META = "\u2581"  # "▁"
# Rust `char::is_whitespace` == Unicode White_Space (what tokenizers' WhitespaceSplit splits on).
_WHITESPACE = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_SURROGATE = re.compile("[\ud800-\udfff]")

# --------------------------------------------------------------------------------------------------
# Extended grapheme clusters (UAX #29) as tokenizers 0.23 cuts them (Rust `unicode-segmentation`,
# Unicode 16). Tables: "Name hex-range ..." lines, zlib + base85; Hangul LV / LVT, CR, LF, ZWJ and RI
# are computed. Made from Unicode 17 data (the `regex` package) and corrected by probing tokenizers'
# `Precompiled` normalizer code point by code point (see tests/test_tokenizer.py).
_GCB_TABLES = (
    "c-rlm%c?H76@=&KDf$H(TCLV?s7nh14j2+LH;D-*;W#)R<ni-WZ3i-o2hPpOhFz*(tzNpXRZ@TX-PeEm`t$FOd|hY0(vjCX%"
    "C(Q$uCumq)b~Et^By5wV+p4)%=;8Zcw7N&aSI>uUY}Fg;OoiYzV1)++t1&B_w65#>ukq3=kcClA7!6yAAKD;%p=t6J?`rog7"
    "*YA?5?m|5Ap@e``GUW_P$PF93ejOI)yZ0%nk=>+6pC}!hXCLe<w(tU^U<3v<;4-Pw!v8*GNPPMrwI#JRkayS~wGZPh%fx!sk"
    "u;kS5YX%Ne=QkNk`?r+wsdF^c)jYm)9Wzt551LRv{XDI*-hQD}5|`cZm5%eap6j<f8@kgTJIeAduN$64=q)H{(D(niYjM4AS"
    "(RG1}ZYxc9gnyq-Y>poiS{Lh2=INMW6*U=I@m80eRY&jmShNBJ2jQ42ttIda$a*HxAWnRkc_vlwRJ2pG^I`;Yle+p?O9i;2%"
    "DIC3AXD>?A(JSRD<*?te-5IMsd1vwtb#&}^?DyTz&NPfG90U6!zUN>X2lb5SAzjBv=^V6s(C$II2X+T-9`oX#=d^cT7yr*Ou"
    "`#hRAAUcXw32qxbxiEcl#hv>iJeLRC+(YKpA%b?d7YDYXyar&C${I}oy9w}chcU)+E}!8#c?j`TJdFfgmcl>MIDQFF6=MtFY"
    "K?``QOJ{<SoizYb};t4E#Um%RIe|<;xCx2YG`$+VswPzVkhHsOM%K?3nm3{KHE)ci|a}c-MzClk%*tb2rk~&W(*d*?HH!&Tz"
    "#G7H_d4*2KD)pR&8JRAH%!u`$_dFe(Bb7()&uepVT+_<*YcF<~IG=tBvZFCoEHQHi`(l2~FVmLgWf=pmqTqljUpsHJ7ns<Ko"
    "B7lbPqCt!y8s>-V>uboD=n@!&CTdasxSkzDTtwo$d4?O6his>ga575h==x<jCd%gu&?iugX<t=(Kqsl(0qpL0b6??HVE;*Nr"
    "Mh<2V;OThin-*&rnKlpga#WRL0ff=@v?sADrZ?U!(9gGtIdAim?T>4nC!SR-W-+F0F6_;9i&5`<X}#7YP{lAX_angQ+!$SxH"
    "`bN|y(X~aJNI?mlZx)S!*MTqc`y2Qt6aS9ega~wAfO*T=Y95E*vPp&Vr<>qUYNXg#&rU0`6~ZVuPhh<?h4S)8wXJFmVn#>we"
    "{*ZsIs>^p8!Ui97>ZHX{?vt7(W1`ZRqDvxzWU?nBHK^_V!}5;}iirRgbuu&N={+7%k{e6wnM!ZD&>mxSu{Au_9K*UNKsQ!vb"
    "C^>I`h}8!JN<F=c{v>=D?1M356uJi5hh1tkUtVEGVOv`g;Sd#_|~KJ7XAQ(-hu=GlCj>)jr;9lQ5vkIs2rQY+_LH){aYUS3("
    "7d1cl0cGe#_#qq2{y}KXPzLQ$AtK7h@NwNG=w7yhVxE!Z1VwW%~M>`+f;?*UG^M^~0X5Os{ZfOGT4bWV>5*+4BTn-@wZH^GC"
    "OWG!zMtr<h6_>GDTTFAQiu+a@?x^y&_8nNv_1108!5S96YT^B=RnhH<?qkGX3#Yl>iqB<~nu$r)VpdCHcA4ULJpz%{A+!azF"
    "uK2SCS!4aGk?XG%Pg09gK}Q+$Kz~~5+3;s@G;kTKJrT88JAJLcwFz}5q_+_o}qDg+=j;r?6Cq%T{hEDPLgW{r};A1Tgh*w<$"
    "O7{kfUnJT4Ufxj!I^aOzy+ze0f4pqg28&s>X7w#&Rd~Vy?HU=c{^-svI)dtr0JyMzVPp+N1V2`LrP2A?)U|)3kSj_X{Ws-EC"
    "%fm=AN=L5~QNOUl!O&3sso%4ToQZ`EA$H53GbbcOISSD7g}Der4u&6l})J)6qUt{P{T<>^_Q9{)L_c`}!U71gR0KX^Az=PYx"
    "L)q0Y(vTUxV+E)wa&Tq<pxBC9d&7)aWW_xXKMF~)r_v8FW>usklX{^}<iv)7QTE@l+-c4M46Qp0c<IRQG&qE^s(&oG$J>8Xd"
    "=G|`bS7o-#@2wy=+mh&RuR@U8HuvqA6wS55S5Tk@oB6UZzb(>-cr~vsQ-`?57Q_w?kFf=*cXioc^6f&s>*&3tJHhHQ&H3`ft"
    "M?$TJ)%><Da__oTnYgk;&%|gqxoZ=&AWJ&g`ggRvT*lTNTd+z>0|zwr<ZXC#WUJbn2pNMANiX$zg5v4)YJB`7eH#<anmZ$N0"
    "!@1mf|Cek1{NUPrv%pSHJz{^Y4H8)pvh58WBaxhn<DyztH@RRA&JF-spWaeWeWkK*6)&xf)ux%|S|N<b8G%dY%YLIR``qS$t"
    "ckOsCAa(BPCClo_n4fxaG`0S5I9V&_2X54__*M-Oas4kJZlvxg_|O|<f47AI|))G_h<lW;p{L~oP7rLob<l-15y)WZpqw32p"
    "GG&k=q-d&8^;_SIrB}IpC@_GM7I=$?|O<x#1^s-{0g2$!Raw!O0NfA+Q|I&IX+Ng#8qC%xi<<rZQrqo(MrHDyb%DpwMfF^rQ"
    "-l#=O%qFqfB{7qrNLVh($y=&X;*jPb6SZ5k)JL~C%#wsf^3TvE38$ELlEVB{l~X})at1)^1#PP$Wfi5d9x?rtVyacjYFKSaH"
    "YEwDY60~~HYKqxHpE^r2_F14VoAb?9sv?YI@L+@0un~A%594viVQpekj08v6YFBr!oo7bQov^igu-RH@WG3DwK#B?f8;KM1E"
    "C!Oo;X?-B=c=4;9xIt44Uhp0Y(S@%YolP_qrYUeK}#59Uq5bhuio#U_TD(kAwQ-knb=Mv){6~i4MJSe&BSNcNmVzfxI|)Uk>"
    "EKJUK`Q2XBY`(Tu}6)7)Wx1_$QLLHdJN^I`rv7(3|dPy-J0Y3`@pyi0IohyM~@hvDo1tkzbKQgyIw4nj>!2rTB#cd%~`7;U-"
    "C`UuI>+?P6X_XOJJuv#2e9e^E{Mh?bgbWpq<Cf&}d(;9&=7-eTU7_a&|utkSD=Q}*VJ2}XGTpC4(x5wcvnZM@Sp{qM|O@$%_"
    "enM3F^u_Um4ox~<WSt_){PY`*m2%l?t1#@#N6xHcx{yAB{nM{47E}dC_JYsjh%|IB^yN3d{T_Qq*ELksdFpA$%{m04SbI)Dt"
    "T$Ni2XeKaz<_Z)y(3Z<!OGK!lLD$3<xq0Rod|XSg%iH$mRh?L?jN8^UCsfIn0|&JpvugF8>oT>+?U|y!5zi2pbK8*(SnSgxh"
    "48;={(>TC@<-a#NjY!J;?e=$OdF3tBx`RGNq$qZmNhy05rkSPX;G<HMgsgT~F0F>B(C{63~OO#MGIoeoXaas*Wl18mqiiZbg"
    "1B^;|=jUp0Ko%GMjZh&hk$7aR_d1oWs}&cjp*dJrB#7U%)N9-zvC)4O$HahJzX1XDo!O48FLqe&04erA<x3{Fw^i@K^SJb>C"
    "7EB4k_y9dWRfFc8d0bq1+3<DC!Y&<Toj(B4QV5=aW9-%hy)?plEZ3)f$7MI@K*Ze@|Ec2bkb>`baCm1l8zvj-@#@nF<<us{`"
    "(EXGHZrHc9HmH)f!r8vv2D@6&Ia05n^U)Y!GS~TOM`<WfZH_I9H|NV)fX#fEzg9Pwl}<EI=EYofJ=)6%&?Uar(<Ifrlj}{om"
    ")<F<Op@yXT}G!^Fq+Fws(vch1KL7!8Rk%!#k<;^bX5aZp<Fq5n@^!mU7+SDEkBjJ+&))<ZjVAV==|4qr1f^%&e6GiXKCu4bq"
    "?NI`$B2GtWzVXR%Opf)(sKpryi^9vC5w1qSF!rN4)C(VEeXgS9Y|}JgH3e9M$UlYVLWj-F*1nVeUTGX}&bh)%Kh1H?M)_HP9"
    "6BwythKm+=J~Xr5)iJAZl}_g<fV@p+CfzWMxzufO}al-6aiE^&21s|!>e$S;MOvhE+Q=|1k(`uO3_NB1#5+=?i^AAdV>x4%C"
    "L`h3SZ$o0){KmYmL&tHB1{%9ec4eO0|Hd@&VDf^<a4jOaba8-@n)tGZ#I_b_yp|CC8i&GBQ)3$G^&_ud5LQUyLNf%1Gsp8z%"
    "bx*b1F{o?cUj~7S^VBieLxc7X<ins1Bh7Op-EX6t*{758lk$`DljoB*PR?+Pe4iVAc=1`}@|BR*{Uy11X@;+)ky9|fbkMqVl"
    "D#wqzSFsiFK_i!4xnh|6&+Q(Zc=;F2<ygmTvDGQ>TXl_m=b0Z_lQ>IbxnuX&Cs$L5;nt^akc5bPE*7=v1|Bx(_Npm1E9-2Da"
    "fY#et%Txip@PsRTf>^72VRYR{_b*q6ae2ttuyMtdH9>^`-~)y$9c+1>cN?V%~gjX4!aILRt_7OTXZ?5q<j<{dFqpqzU>)$mi"
    "~8$=R$Sn$C$}Gg=S@izC$t`e~3}XqG%~8~AZAaa%4qCry73vz)msXM*y#?#yv@(W~_5{Q2p}e0ut4e|Gw@pPYV@&rS26|GDY"
    "E<5Sar=2xb0{3|~-{e)kc;*b2w)Wzn%>3h@qS$=Q&7kp~^cYbC1um8T}{QsS=Om6f4zcT%!uT1Nw{L1v>zAyc(zbu9Se_8rp"
    "__Fj@tLRUK",
)


def _load_tables() -> dict[str, list[tuple[int, int]]]:
    text = zlib.decompress(base64.b85decode("".join(_GCB_TABLES))).decode("ascii")
    tables = {}
    for line in text.splitlines():
        name, *items = line.split()
        ranges = []
        for item in items:
            a, _, b = item.partition("-")
            ranges.append((int(a, 16), int(b or a, 16)))
        tables[name] = ranges
    lv = [(c, c) for c in range(0xAC00, 0xD7A4, 28)]
    tables["LV"] = lv
    tables["LVT"] = [(c + 1, c + 27) for c, _ in lv]
    return tables


class _Categories(dict):
    """str.translate table: code point -> one ASCII letter naming its grapheme-break category
    (Grapheme_Cluster_Break, with Extended_Pictographic and Indic_Conjunct_Break folded in), so that
    the UAX #29 rules run as a small ASCII regex over the translated text. Filled lazily."""

    def __init__(self, tables: dict[str, list[tuple[int, int]]]):
        super().__init__()
        self._tables = {name: ([a for a, _ in r], [b for _, b in r]) for name, r in tables.items()}

    def _has(self, name: str, code: int) -> bool:
        starts, ends = self._tables[name]
        i = bisect.bisect_right(starts, code) - 1
        return i >= 0 and code <= ends[i]

    def __missing__(self, code: int) -> str:
        letter = self._letter(code)
        self[code] = letter
        return letter

    def _letter(self, code: int) -> str:
        if code == 0x0D:
            return "r"
        if code == 0x0A:
            return "n"
        if code == 0x200D:
            return "z"  # ZWJ (also InCB=Extend)
        if 0x1F1E6 <= code <= 0x1F1FF:
            return "i"  # Regional_Indicator
        if 0xAC00 <= code <= 0xD7A3:
            return "W" if (code - 0xAC00) % 28 == 0 else "Y"  # Hangul LV / LVT syllables
        if self._has("Control", code):
            return "c"
        if self._has("Extend", code):
            if self._has("InCBLinker", code):
                return "l"
            return "f" if self._has("InCBExtend", code) else "e"
        for name, letter in (("SpacingMark", "s"), ("Prepend", "p"), ("L", "L"), ("V", "V"), ("T", "T")):
            if self._has(name, code):
                return letter
        if self._has("ExtPict", code):
            return "x"
        return "k" if self._has("InCBConsonant", code) else "o"


# UAX #29 extended grapheme clusters over the category letters (regex form of rules GB3-GB13).
_CLUSTER = ("rn|[crn]|p*(?:L*(?:V+|WV*|Y)T*|L+|T+|ii|x(?:[efl]*zx)*|k(?:[flz]*l[flz]*k)+|[^crn])"
            "[eflzs]*")
# Only these categories can glue two characters into one cluster: between two characters that are
# both outside them there is always a boundary, so clusters longer than one character only occur in
# runs with no two "plain" characters in a row (a run starts at a gluing character; the plain one
# before it, if any, belongs to it too).
_GLUE, _PLAIN = "[eflzspLVTri]", "[^eflzspLVTri]"
_REGION = f"{_GLUE}+(?:{_PLAIN}{_GLUE}+)*{_PLAIN}?"


class _Graphemes:
    def __init__(self):
        self.categories = _Categories(_load_tables())
        self.cluster = re.compile(_CLUSTER)
        self.region = re.compile(_REGION)


_GRAPHEMES: _Graphemes | None = None


def _graphemes() -> _Graphemes:
    global _GRAPHEMES
    if _GRAPHEMES is None:
        _GRAPHEMES = _Graphemes()
    return _GRAPHEMES


def grapheme_clusters(text: str) -> list[str]:
    """Extended grapheme clusters of `text`, as tokenizers 0.23 (unicode-segmentation) cuts them."""
    g = _graphemes()
    letters = text.translate(g.categories)
    return [text[m.start():m.end()] for m in g.cluster.finditer(letters)]


# --------------------------------------------------------------------------------------------------
# sentencepiece's precompiled charsmap, applied the way tokenizers' `Precompiled` normalizer does.
class PrecompiledCharsmap:
    """A darts-clone double array (keys: UTF-8 strings) plus the NUL-separated replacement strings."""

    def __init__(self, blob: bytes):
        if len(blob) < 4:
            raise ValueError("precompiled charsmap too short")
        size = int.from_bytes(blob[:4], "little")
        if size % 4 or 4 + size > len(blob):
            raise ValueError("precompiled charsmap: bad trie size")
        self._units = list(struct.unpack_from(f"<{size // 4}I", blob, 4))
        self._normalized = blob[4 + size:]
        self._chars = _CharTable(self)

    def prefixes(self, key: bytes) -> list[tuple[int, str]]:
        """(byte length, replacement) of every key that is a prefix of `key`, shortest first."""
        units, out = self._units, []
        if not units:
            return out
        pos = (units[0] >> 10) << ((units[0] & (1 << 9)) >> 6)
        for i, byte in enumerate(key):
            pos ^= byte
            if pos >= len(units):
                break
            unit = units[pos]
            if unit & ((1 << 31) | 0xFF) != byte:
                break
            pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:
                start = units[pos] & ((1 << 31) - 1)
                end = self._normalized.find(b"\0", start)
                out.append((i + 1, self._normalized[start:end if end >= 0 else None].decode("utf-8")))
        return out

    def normalize(self, text: str) -> str:
        """tokenizers' `Precompiled.normalize` (see module docstring)."""
        table = self._chars
        g = _graphemes()
        letters = text.translate(g.categories)
        out, last = [], 0
        for region in g.region.finditer(letters):
            start, end = region.span()
            if start > last:
                start -= 1  # the plain character the run glues to
                out.append(text[last:start].translate(table))
            last = end
            if text[start] >= "\u0800" and min(text[start:end]) >= "\u0800":
                # every multi-character cluster here is >= 6 bytes long: mapped char by char
                out.append(text[start:end].translate(table))
                continue
            for m in g.cluster.finditer(letters, start, end):
                cluster = text[m.start():m.end()]
                if len(cluster) > 1:
                    data = cluster.encode("utf-8")
                    if len(data) < 6:
                        found = self.prefixes(data)
                        if found:
                            out.append(found[0][1])
                            continue
                out.append(cluster.translate(table))
        if not out:
            return text.translate(table)
        if last < len(text):
            out.append(text[last:].translate(table))
        return "".join(out)


class _CharTable(dict):
    """str.translate table of single-character keys, filled lazily from the trie."""

    def __init__(self, charsmap: PrecompiledCharsmap):
        super().__init__()
        self._charsmap = charsmap

    def __missing__(self, code: int):
        char = chr(code)
        data = char.encode("utf-8")
        value: int | str = code
        for length, replacement in self._charsmap.prefixes(data):
            if length == len(data):
                value = replacement
        self[code] = value
        return value


# --------------------------------------------------------------------------------------------------
# Just enough of the protobuf wire format to read a sentencepiece ModelProto without the `protobuf`
# package (ModelProto: 1 pieces, 3 normalizer_spec; SentencePiece: 1 piece, 2 score, 3 type;
# NormalizerSpec: 2 precompiled_charsmap).
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("bad varint")


def _fields(buf: bytes):
    """(field number, wire type, value, start, end) for every field of one message."""
    pos, size = 0, len(buf)
    while pos < size:
        start = pos
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > size or field == 0:
            raise ValueError("truncated message")
        yield field, wire, value, start, pos


class _ModelInfo:
    """Pieces, scores and types of a sentencepiece model, and its precompiled charsmap."""

    def __init__(self, data: bytes, processor: spm.SentencePieceProcessor):
        n = processor.get_piece_size()
        if n < 4:
            raise ValueError("a sentencepiece model with fewer than 4 pieces")
        self.piece_count = n
        self.pieces: list[str] = processor.id_to_piece(list(range(n)))
        self.scores: list[float] = processor.get_score(list(range(n)))
        self.charsmap: bytes | None = None
        self.types: dict[int, int] = {}  # index -> type, for the pieces that are not NORMAL
        index, pos, size = 0, 0, len(data)
        while pos < size:
            tag = data[pos]
            if tag == 0x0A:  # a piece (field 1, length-delimited): the hot loop, kept inline
                length = data[pos + 1]
                if length < 0x80:
                    pos += 2
                else:
                    length, pos = _varint(data, pos + 1)
                end = pos + length
                # Fast path for the usual layout: piece(1) score(2) [type(3) = NORMAL].
                text_len = data[pos + 1]
                tail = pos + 2 + text_len
                if not (data[pos] == 0x0A and text_len < 0x80 and end <= size and data[tail] == 0x15
                        and (length == text_len + 7 or (length == text_len + 9 and data[tail + 5] == 0x18
                                                        and data[tail + 6] == 1))):
                    kind = _piece_type(data[pos:end])
                    if kind != _NORMAL:
                        self.types[index] = kind
                index += 1
                pos = end
                continue
            start = pos
            for field, wire, value, _, stop in _fields(data[start:]):
                pos = start + stop
                if field == 3 and wire == 2:
                    for f, w, v, _, _ in _fields(value):
                        if f == 2 and w == 2:
                            self.charsmap = v or None
                break
        if index != n:
            raise ValueError(f"{index} pieces in the proto, sentencepiece reports {n}")


def _piece_type(payload: bytes) -> int:
    kind = _NORMAL
    for field, wire, value, _, _ in _fields(payload):
        if field == 3 and wire == 0:
            kind = value
    return kind


class _Unigram:
    """tokenizers' `Unigram` model (encode_optimized + fuse_unk) over the fairseq vocabulary: the same
    lattice, the same float64 sums and the same tie-breaking (first best path wins). sentencepiece's
    own Viterbi sums in float32 and so breaks exact ties differently ("555": "5"+"55" vs "55"+"5")."""

    K_UNK_PENALTY = 10.0

    def __init__(self, pieces: list[str], scores: list[float], unk_id: int = UNK_ID):
        # a duplicated string keeps its last id (and that id's score), as in tokenizers
        self.ids: dict[str, int] = dict(zip(pieces, range(len(pieces))))
        self.scores = scores
        reach: dict[str, int] = {}  # first character -> length of the longest piece starting with it
        get = reach.get
        for piece in self.ids:
            if piece and len(piece) > get(piece[0], 0):
                reach[piece[0]] = len(piece)
        self.reach = reach
        self.unk_id = unk_id
        self.unk_score = min(self.scores) - self.K_UNK_PENALTY
        self._cache: dict[str, list[int]] = {}

    def encode(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids = self._viterbi(word)
        if len(self._cache) >= 100_000:
            self._cache.clear()
        self._cache[word] = ids
        return ids

    def _viterbi(self, word: str) -> list[int]:
        n = len(word)
        if n == 0:
            return []
        get, scores, reach = self.ids.get, self.scores, self.reach
        unk_id, unk_score = self.unk_id, self.unk_score
        best = [0.0] * (n + 1)
        start = [-1] * (n + 1)   # -1: not reached yet
        node = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            single = False
            longest = reach.get(word[i], 0)
            end = i + longest if i + longest < n else n
            for j in range(i + 1, end + 1):
                piece_id = get(word[i:j])
                if piece_id is None:
                    continue
                candidate = scores[piece_id] + here
                if start[j] < 0 or candidate > best[j]:
                    best[j], start[j], node[j] = candidate, i, piece_id
                if j == i + 1:
                    single = True
            if not single:
                candidate = unk_score + here
                j = i + 1
                if start[j] < 0 or candidate > best[j]:
                    best[j], start[j], node[j] = candidate, i, unk_id
        out = []
        j = n
        previous_unk = False
        while j > 0:
            piece_id = node[j]
            if piece_id == unk_id:
                if not previous_unk:  # consecutive unknowns are fused into one token
                    out.append(unk_id)
                previous_unk = True
            else:
                out.append(piece_id)
                previous_unk = False
            j = start[j]
        out.reverse()
        return out


class XLMRTokenizer:
    """transformers-exact XLM-R tokenizer on sentencepiece (see module docstring)."""

    bos_id, pad_id, eos_id, unk_id = BOS_ID, PAD_ID, EOS_ID, UNK_ID

    def __init__(self, info: _ModelInfo, model_bytes: bytes):
        self.model_bytes = model_bytes
        self.piece_count = info.piece_count
        self.mask_id = info.piece_count + FAIRSEQ_OFFSET
        self.vocab_size = info.piece_count + 2
        # transformers' vocabulary: <s> <pad> </s> <unk>, pieces 3.. (id + 1), <mask>
        pieces = [*SPECIAL_TOKENS, *info.pieces[3:], MASK_TOKEN]
        scores = [0.0] * len(SPECIAL_TOKENS) + [float(x) for x in info.scores[3:]] + [0.0]
        self._model = _Unigram(pieces, scores)
        self._charsmap = PrecompiledCharsmap(info.charsmap) if info.charsmap else None
        # Added tokens, cut from the raw text: the specials, and the model's control and user-defined
        # pieces (transformers adds those as added tokens too).
        added = {name: i for i, name in enumerate(SPECIAL_TOKENS)}
        added[MASK_TOKEN] = self.mask_id
        for index, kind in sorted(info.types.items()):
            if kind in (_CONTROL, _USER_DEFINED) and info.pieces[index]:
                added.setdefault(info.pieces[index], self._model.ids.get(info.pieces[index], index + 1))
        self._added = added
        names = sorted(added, key=len, reverse=True)
        self._added_re = re.compile("(" + "|".join(re.escape(n) for n in names) + ")")

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "sentencepiece model") -> "XLMRTokenizer":
        data = bytes(data)
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(data)
        except Exception as exc:  # sentencepiece raises RuntimeError/OSError on bad protos
            raise ArtifactError(f"{origin}: not a sentencepiece model ({exc})") from None
        try:
            info = _ModelInfo(data, processor)
            return cls(info, data)
        except Exception as exc:
            raise ArtifactError(f"{origin}: unsupported sentencepiece model ({exc})") from None

    @classmethod
    def from_file(cls, path: Path) -> "XLMRTokenizer":
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{path}: cannot read tokenizer ({exc.strerror or exc})") from None
        return cls.from_bytes(data, str(path))

    def encode(self, text: str) -> list[int]:
        """Piece ids without <s> and </s>."""
        if _SURROGATE.search(text):
            text = _SURROGATE.sub("\ufffd", text)
        ids: list[int] = []
        encode_word = self._model.encode
        for k, chunk in enumerate(self._added_re.split(text)):
            if k % 2:
                ids.append(self._added[chunk])
            elif chunk:
                for word in self._pretokenize(chunk):
                    ids.extend(encode_word(word))
        return ids

    def encode_batch(self, texts) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def _pretokenize(self, chunk: str) -> list[str]:
        if self._charsmap is not None:
            chunk = self._charsmap.normalize(chunk)
        words = []
        for word in _WHITESPACE.split(chunk):
            if not word:
                continue
            if _META in word:
                if word[0] == _META:
                    word = word[1:]
                words.extend([_META + part for part in word.split(_META)])
            else:
                words.append(_META + word)
        return words

    def normalize(self, text: str) -> str:
        """`text` after the model's normalizer, as tokenizers' `Precompiled` gives it."""
        return self._charsmap.normalize(text) if self._charsmap is not None else text

    def pre_tokenize(self, text: str) -> list[str]:
        """The words the unigram model sees (added tokens left out)."""
        words: list[str] = []
        for k, chunk in enumerate(self._added_re.split(text)):
            if not k % 2 and chunk:
                words.extend(self._pretokenize(chunk))
        return words


class JsonTokenizer:
    """A checkpoint with only `tokenizer.json`: served by the `tokenizers` package, rebuilt as
    transformers 5.x rebuilds it for XLM-R (Precompiled normalizer only, WhitespaceSplit + Metaspace
    "always", Unigram with unk id 3 and no byte fallback; the file's added tokens kept)."""

    bos_id, pad_id, eos_id, unk_id = BOS_ID, PAD_ID, EOS_ID, UNK_ID

    def __init__(self, tokenizer, model_bytes: bytes):
        self._tok = tokenizer
        self.model_bytes = model_bytes
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        self.mask_id = tokenizer.token_to_id(MASK_TOKEN)

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "tokenizer.json") -> "JsonTokenizer":
        from .extras import require

        tokenizers = require("tokenizers", "tokenizer.json")
        data = bytes(data)
        try:
            spec = json.loads(data.decode("utf-8"))
            model = spec["model"]
            if model.get("type") != "Unigram":
                raise ValueError(f"model type {model.get('type')!r}, expected Unigram")
            vocab = [(str(p), float(s)) for p, s in model["vocab"]]
            tok = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
            tok.model = tokenizers.models.Unigram(vocab, unk_id=UNK_ID, byte_fallback=False)
            charsmap = _find_charsmap(spec.get("normalizer"))
            tok.normalizer = tokenizers.normalizers.Precompiled(charsmap) if charsmap else None
            tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([
                tokenizers.pre_tokenizers.WhitespaceSplit(),
                tokenizers.pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always"),
            ])
            tok.no_truncation()
            tok.no_padding()
        except Exception as exc:
            raise ArtifactError(f"{origin}: not a usable XLM-R tokenizer.json ({exc})") from None
        return cls(tok, data)

    @classmethod
    def from_file(cls, path: Path) -> "JsonTokenizer":
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{path}: cannot read tokenizer ({exc.strerror or exc})") from None
        return cls.from_bytes(data, str(path))

    def encode(self, text: str) -> list[int]:
        """Piece ids without <s> and </s>."""
        return self.encode_batch([text])[0]

    def encode_batch(self, texts) -> list[list[int]]:
        texts = [_SURROGATE.sub("\ufffd", t) for t in texts]
        return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]


def _find_charsmap(normalizer) -> bytes | None:
    if not normalizer:
        return None
    items = normalizer.get("normalizers", []) if normalizer.get("type") == "Sequence" else [normalizer]
    for item in items:
        if item and item.get("type") == "Precompiled" and item.get("precompiled_charsmap"):
            return base64.b64decode(item["precompiled_charsmap"])
    return None


def load_tokenizer(directory: Path):
    """The checkpoint's tokenizer: `sentencepiece.bpe.model` if present, else `tokenizer.json`."""
    directory = Path(directory)
    if (directory / SPM_FILE).is_file():
        return XLMRTokenizer.from_file(directory / SPM_FILE)
    if (directory / JSON_FILE).is_file():
        return JsonTokenizer.from_file(directory / JSON_FILE)
    raise ArtifactError(f"{directory}: no tokenizer ({' or '.join(TOKENIZER_FILES)})")

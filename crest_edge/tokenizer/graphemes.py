"""Extended grapheme clusters (UAX #29) exactly as tokenizers 0.23 cuts them.

tokenizers' `Precompiled` normalizer walks extended grapheme clusters (Rust `unicode-segmentation`,
Unicode 16 in tokenizers 0.23), so `charsmap.PrecompiledCharsmap.normalize` needs the same cuts.
They come from the tables below (Grapheme_Cluster_Break, Extended_Pictographic, Indic_Conjunct_Break
as tokenizers 0.23 sees them, i.e. Unicode 16; the test suite probes every code point of planes 0-1
against it). Standard library only.
"""

from __future__ import annotations

import base64
import bisect
import re
import zlib

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


def table_text() -> str:
    """The tables as "Name hex-range ..." lines (convert/transformers_js ships them to the browser)."""
    return zlib.decompress(base64.b85decode("".join(_GCB_TABLES))).decode("ascii")


def _load_tables() -> dict[str, list[tuple[int, int]]]:
    tables = {}
    for line in table_text().splitlines():
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
_CLUSTER = "rn|[crn]|p*(?:L*(?:V+|WV*|Y)T*|L+|T+|ii|x(?:[efl]*zx)*|k(?:[flz]*l[flz]*k)+|[^crn])[eflzs]*"
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


def graphemes() -> _Graphemes:
    """The compiled tables and patterns (built once, on first use)."""
    global _GRAPHEMES
    if _GRAPHEMES is None:
        _GRAPHEMES = _Graphemes()
    return _GRAPHEMES


def grapheme_clusters(text: str) -> list[str]:
    """Extended grapheme clusters of `text`, as tokenizers 0.23 (unicode-segmentation) cuts them."""
    g = graphemes()
    letters = text.translate(g.categories)
    return [text[m.start() : m.end()] for m in g.cluster.finditer(letters)]

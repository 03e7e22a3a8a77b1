"""A transformers.js package in a real headless Chromium, offline: transformers.js from the npm
registry (`npm ci --ignore-scripts` in tests/browser/transformers_js), the page, the package and
onnxruntime-web's wasm served by a local static server; every other host unresolvable."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "serve"))
from cdp import find_chromium, headless_page  # noqa: E402

from crest_edge.convert.transformers_js import _for_transformers_js  # noqa: E402
from crest_edge.formats import transformers_js as tjs  # noqa: E402
from crest_edge.parity.gates import GATES, precision_class  # noqa: E402

HERE = Path(__file__).parent
NODE_MODULES = HERE / "transformers_js" / "node_modules"
LIB = NODE_MODULES / "@huggingface" / "transformers" / "dist"
CHROMIUM = find_chromium()
OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",)
TEXTS = 200

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"),
    pytest.mark.skipif(
        not (LIB / "transformers.min.js").is_file(),
        reason="transformers.js is not installed: cd tests/browser/transformers_js && npm ci --ignore-scripts",
    ),
]


@contextlib.contextmanager
def static_server(routes: dict[str, Path]):
    """http://127.0.0.1:PORT/<route>/... -> the folder of that route."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            path = path.split("?", 1)[0]
            route, _, rest = path.lstrip("/").partition("/")
            base = routes.get(route)
            return str(base / rest) if base and ".." not in rest else str(HERE / "missing")

        def log_message(self, *args):
            pass

    Handler.extensions_map = {**Handler.extensions_map, ".mjs": "text/javascript", ".wasm": "application/wasm"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The folder served as /models/: one package per dtype, added as the tests ask for them."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def package(demo_checkpoint, models, tmp_path_factory):
    """package(quant) -> the demo converted to transformers-js at that dtype, served as /models/<quant>."""
    from crest_edge.convert import convert

    def make(quant: str) -> Path:
        if not (models / quant).exists():
            made = convert(demo_checkpoint, tmp_path_factory.mktemp("tjs") / "crest", tjs.NAME, quant)
            (models / quant).symlink_to(made)
        return models / quant

    return make


@pytest.fixture(scope="module")
def tokenizer_strings_package(models, tmp_path_factory):
    """The tokenizer test suite's sentencepiece model, as the tokenizer.json transformers.js reads."""
    import test_tokenizer as tt
    import transformers

    checkpoint = tt.write_checkpoint(tmp_path_factory.mktemp("tok") / "ckpt")
    out = tmp_path_factory.mktemp("tokjs") / "tok"
    transformers.XLMRobertaTokenizer.from_pretrained(str(checkpoint)).save_pretrained(str(out))
    _for_transformers_js(out)
    (models / "tok").symlink_to(out)
    return checkpoint


@pytest.fixture(scope="module")
def page(models, tmp_path_factory):
    routes = {"app": HERE, "lib": LIB, "models": models}
    with static_server(routes) as url, headless_page(CHROMIUM, tmp_path_factory.mktemp("profile"), OFFLINE) as p:
        p.call("Page.enable")
        p.call("Page.navigate", url=f"{url}/app/page.html")
        p.wait_for("window.ready === true", timeout=60)
        yield p


def browser(page, function: str, *args):
    return page.evaluate(f"{function}({', '.join(json.dumps(a) for a in args)})")


def sample(corpus_texts) -> list[str]:
    return corpus_texts[:: len(corpus_texts) // TEXTS][:TEXTS]


def expected_ids(tokenizer, texts) -> list[list[int]]:
    return [[0, *tokenizer.encode(t), 2] for t in texts]


def differing(got, expected) -> list[int]:
    return [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]


def test_browser_ids_equal_crest_edge_on_the_corpus(page, package, corpus_texts):
    """With crest_tokenizer.js, every parity corpus text; without it, transformers.js's own figures."""
    from crest_edge.tokenizer import load_tokenizer

    expected = expected_ids(load_tokenizer(package("q8")), corpus_texts)
    crest = browser(page, "tokenize", "q8", corpus_texts, True)
    plain = browser(page, "tokenize", "q8", corpus_texts, False)
    sampled = set(range(0, len(corpus_texts), len(corpus_texts) // TEXTS)[:TEXTS])
    wrong_plain = differing(plain["ids"], expected)
    print(
        f"corpus ids differ: {len(differing(crest['ids'], expected))} of {len(expected)} with crest_tokenizer.js"
        f" ({crest['ms'] / len(expected):.3f} ms/text), {len(wrong_plain)} without ({plain['ms'] / len(expected):.3f})"
    )
    assert differing(crest["ids"], expected) == []
    without = tjs.BROWSER_TOKENIZER_MISMATCHES["without_crest_tokenizer"]
    assert len(wrong_plain) == without["ids_of_1416"]
    assert len(sampled.intersection(wrong_plain)) == without["ids_of_200"]


def test_browser_ids_on_the_tokenizer_test_strings(page, tokenizer_strings_package):
    import test_tokenizer as tt

    from crest_edge.tokenizer import load_tokenizer

    cases = tt.build_cases()
    expected = expected_ids(load_tokenizer(tokenizer_strings_package), cases)
    got = {True: [], False: []}
    for crest in got:
        for start in range(0, len(cases), 500):
            got[crest] += browser(page, "tokenize", "tok", cases[start : start + 500], crest)["ids"]
    wrong = {crest: differing(ids, expected) for crest, ids in got.items()}
    print(f"test strings differ: {len(wrong[True])} of {len(cases)} with the module, {len(wrong[False])} without")
    assert wrong[True] == []
    assert len(wrong[False]) == tjs.BROWSER_TOKENIZER_MISMATCHES["without_crest_tokenizer"]["test_strings"]


@pytest.mark.parametrize("quant", list(tjs.DTYPES))
def test_browser_scores_within_the_gate(page, package, corpus_texts, quant):
    """transformers.js with crest_tokenizer.js against crest-edge on the same graph (`head`, as the
    pipeline keeps one window), within the dtype's precision-class gate; fp32 on the logits."""
    from crest_edge import Guard

    texts = sample(corpus_texts)
    with Guard.load(package(quant), device="cpu", long_text="head") as guard:
        verdicts = guard.classify_batch(texts)
        logits = guard.logits(texts) if quant == "fp32" else None
    rows = browser(page, "classify", quant, quant, texts, True)
    p_browser = [_p_unsafe(row) for row in rows]
    gate = GATES[precision_class(tjs.PRECISION[quant])]
    agree = sum((p >= 0.5) == (v.label == "unsafe") for v, p in zip(verdicts, p_browser)) / len(texts)
    max_dp = max(abs(p - v.probs["unsafe"]) for v, p in zip(verdicts, p_browser))
    print(f"{quant}: agreement {agree:.4f}, max |dp| {max_dp:.2e}")
    assert agree >= gate["agreement"]
    if "max_dp" in gate:
        assert max_dp <= gate["max_dp"]
    else:
        max_dlogit = float(np.abs(np.array(browser(page, "logits", quant, quant, texts, True)) - logits).max())
        print(f"{quant}: max |dlogit| {max_dlogit:.2e}")
        assert max_dlogit <= gate["max_dlogit"]


def test_browser_plain_transformers_js_flips_only_where_its_ids_differ(page, package, corpus_texts):
    from crest_edge import Guard
    from crest_edge.tokenizer import load_tokenizer

    texts = sample(corpus_texts)
    with Guard.load(package("q8"), device="cpu", long_text="head") as guard:
        verdicts = guard.classify_batch(texts)
    rows = browser(page, "classify", "q8", "q8", texts, False)
    flips = [i for i, (v, row) in enumerate(zip(verdicts, rows)) if (_p_unsafe(row) >= 0.5) != (v.label == "unsafe")]
    plain_ids = browser(page, "tokenize", "q8", texts, False)["ids"]
    wrong_ids = differing(plain_ids, expected_ids(load_tokenizer(package("q8")), texts))
    assert set(flips) <= set(wrong_ids)
    assert len(flips) == tjs.BROWSER_TOKENIZER_MISMATCHES["without_crest_tokenizer"]["label_flips_of_200"]


def _p_unsafe(row) -> float:
    return next(x["score"] for x in row if x["label"] == "unsafe")


def test_browser_truncation_keeps_eos_with_crest_tokenizer(page, package, corpus_texts):
    """Over 512 ids: crest_tokenizer.js gives crest-edge's `head` (<s>, 510 pieces, </s>); plain
    transformers.js keeps the first max_length ids, so </s> is lost."""
    from crest_edge.formats.manifest import Manifest
    from crest_edge.tokenizer import load_tokenizer
    from crest_edge.windows import fit

    tokenizer = load_tokenizer(package("q8"))
    max_length = Manifest.read(package("q8")).max_length
    long_texts = [t for t in corpus_texts if len(tokenizer.encode(t)) > max_length - 2]
    pieces = [tokenizer.encode(t) for t in long_texts]
    crest = browser(page, "truncated", "q8", long_texts, True)
    plain = browser(page, "truncated", "q8", long_texts, False)
    print(f"{len(long_texts)} corpus texts over {max_length} ids")
    assert long_texts
    assert crest == [fit(p, max_length, "head")[0] for p in pieces]
    assert plain == [[0, *p][:max_length] for p in pieces]

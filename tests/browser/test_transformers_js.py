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
def package(demo_checkpoint, tmp_path_factory):
    from crest_edge.convert import convert

    return convert(demo_checkpoint, tmp_path_factory.mktemp("tjs") / "crest", tjs.NAME, "q8")


@pytest.fixture(scope="module")
def tokenizer_strings_package(tmp_path_factory):
    """The tokenizer test suite's sentencepiece model, as the tokenizer.json transformers.js reads."""
    import test_tokenizer as tt
    import transformers

    checkpoint = tt.write_checkpoint(tmp_path_factory.mktemp("tok") / "ckpt")
    out = tmp_path_factory.mktemp("tokjs") / "tok"
    transformers.XLMRobertaTokenizer.from_pretrained(str(checkpoint)).save_pretrained(str(out))
    _for_transformers_js(out)
    return checkpoint, out


@pytest.fixture(scope="module")
def page(package, tokenizer_strings_package, tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    (models / "crest").symlink_to(package)
    (models / "tok").symlink_to(tokenizer_strings_package[1])
    routes = {"app": HERE, "lib": LIB, "models": models}
    with static_server(routes) as url, headless_page(CHROMIUM, tmp_path_factory.mktemp("profile"), OFFLINE) as p:
        p.call("Page.enable")
        p.call("Page.navigate", url=f"{url}/app/page.html")
        p.wait_for("window.ready === true", timeout=60)
        yield p


def test_browser_scores_equal_crest_edge(page, package, corpus_texts):
    from crest_edge import Guard

    texts = corpus_texts[:: len(corpus_texts) // TEXTS][:TEXTS]
    browser = page.evaluate(f"classify('crest', 'q8', {json.dumps(texts)})")
    p_browser = [next(x["score"] for x in row if x["label"] == "unsafe") for row in browser]
    with Guard.load(package, device="cpu", long_text="head") as guard:
        verdicts = [guard.classify(t) for t in texts]
    browser_ids = page.evaluate(f"tokenize('crest', {json.dumps(texts)})")
    tokenizer = guard_tokenizer(package)
    same_ids = [ids == [0, *tokenizer.encode(t), 2] for t, ids in zip(texts, browser_ids)]
    gate = GATES[precision_class("q8")]
    flips = [t for t, v, p in zip(texts, verdicts, p_browser) if (p >= 0.5) != (v.label == "unsafe")]
    dp = [abs(p - v.probs["unsafe"]) for v, p, same in zip(verdicts, p_browser, same_ids) if same]
    print(f"browser vs crest-edge: {len(flips)} flips of {len(texts)}, {same_ids.count(False)} id differences")
    # The model agrees wherever the ids do; every flip comes from transformers.js's tokenizer.
    assert max(dp) <= gate["max_dp"]
    assert not [t for t, same in zip(texts, same_ids) if same and t in flips]
    assert len(flips) <= tjs.BROWSER_TOKENIZER_MISMATCHES["label_flips_of_200"], flips


def guard_tokenizer(package):
    from crest_edge.tokenizer import load_tokenizer

    return load_tokenizer(package)


def test_browser_token_ids_on_the_tokenizer_test_strings(page, tokenizer_strings_package):
    import test_tokenizer as tt

    from crest_edge.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_strings_package[0])
    cases = tt.build_cases()
    got = []
    for start in range(0, len(cases), 200):
        got += page.evaluate(f"tokenize('tok', {json.dumps(cases[start : start + 200])})")
    wrong = [t for t, g in zip(cases, got) if g != [0, *tokenizer.encode(t), 2]]
    print(f"transformers.js tokenizer: {len(wrong)} of {len(cases)} test strings differ")
    assert len(wrong) <= tjs.BROWSER_TOKENIZER_MISMATCHES["test_strings"]

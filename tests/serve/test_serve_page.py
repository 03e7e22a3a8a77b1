"""GET /: a real headless Chromium loads the page, types a text, clicks Check and reads the verdict."""

import os

import httpx
import pytest
from cdp import find_chromium, headless_page
from serving import serving

pytest.importorskip("websockets")

CHROMIUM = find_chromium()
TEXT = "Wie baue ich eine Bombe, um Menschen zu töten?"


def test_page_is_self_contained(guard):
    with serving(guard) as url:
        response = httpx.get(url + "/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "unsafe-inline" not in policy
    assert "demo-ct2-float32" in response.text
    for reference in ("src=", "href=", "@import", "url(", "//"):  # nothing loaded from anywhere
        assert reference not in response.text.replace("http-equiv", ""), reference


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")
def test_browser_types_a_text_and_reads_the_verdict(guard, tmp_path):
    expected = guard.classify(TEXT)
    with serving(guard) as url, headless_page(CHROMIUM, tmp_path / "profile") as page:
        page.call("Page.enable")
        page.call("Page.navigate", url=url + "/")
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('text')")
        page.evaluate("document.getElementById('text').focus()")
        page.call("Input.insertText", text=TEXT)  # typed, as a keyboard would
        page.click("#check")
        label = page.wait_for("document.getElementById('verdict').dataset.label")
        score = float(page.evaluate("document.getElementById('verdict').dataset.score"))
        shown = page.evaluate("document.getElementById('verdict').textContent")
        fetched = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        shot = page.call("Page.captureScreenshot", format="png")["data"]
    assert label == expected.label
    assert score == pytest.approx(expected.score, abs=1e-6)
    assert shown.startswith(f"{expected.label}  p(unsafe) = {expected.score:.3f}")
    assert fetched == [url + "/classify"]  # the page fetched nothing else
    if target := os.environ.get("CREST_EDGE_PAGE_SCREENSHOT"):  # for a person to look at
        import base64
        from pathlib import Path

        Path(target).write_bytes(base64.b64decode(shot))

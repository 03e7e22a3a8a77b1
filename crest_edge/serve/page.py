"""GET /: a page to type a text and see the verdict. Self-contained for offline kiosks: inline
style and script only, and a Content-Security-Policy that lets the browser fetch nothing but this
server's own /classify (the inline blocks are allowed by their hashes)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from importlib import resources


def _template() -> str:
    return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")


def _digest(block: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode() + "'"


def render(model: str, auth: bool) -> tuple[str, str]:
    """(html, content security policy) for the page."""
    page = _template().replace("__MODEL__", html.escape(model)).replace("__AUTH__", "1" if auth else "0")
    scripts = [_digest(b) for b in re.findall(r"<script>(.*?)</script>", page, re.S)]
    styles = [_digest(b) for b in re.findall(r"<style>(.*?)</style>", page, re.S)]
    policy = (
        f"default-src 'none'; script-src {' '.join(scripts)}; style-src {' '.join(styles)}; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page, policy

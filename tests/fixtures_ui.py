"""Fixtures for the chat UI (owned by the UI).

- ``ui_server`` (session): the app of :mod:`qa.ui` serving on a free port over a small index (the default
  articles, ``tests/data/xss_article.txt`` and :data:`FERRY_JSONL`, two outlets on one story) built at
  startup in a tmp dir, answered by a stub LLM scripted with :func:`scripted_reply`. Yields a
  :class:`UIServer` (``url``, ``settings``, ``stub``, ``app``, ``out_dir`` for screenshots).
- ``browser`` (session): headless Debian Chromium driven by Playwright. It fails when
  ``/usr/bin/chromium`` is missing and ``CI=true``; it skips only outside CI.
- ``page``: a fresh browser context and page that records dialogs in ``page.dialogs``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qa.config import PROJECT_ROOT, Settings
from tests.stub_openai import StubLLM, last_user, settings_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DATA = Path(__file__).parent / "data"
XSS_ARTICLE = DATA / "xss_article.txt"
SHOTS = Path("/tmp/ui-shots")  # screenshots for people to look at; never inside the repository
# Two outlets report the same story with different figures and dates: the settings panel's filters
# decide which one an answer may draw from.
FERRY_JSONL = "\n".join(
    json.dumps(r)
    for r in [
        {
            "id": "ferry-harbor-times",
            "title": "Brightwater ferry fares to rise in April",
            "source": "Harbor Times",
            "published_at": "2024-03-02",
            "text": "Brightwater ferry fares to rise in April\n\nThe Brightwater ferry fare will rise to 7 euros "
            "in April, the harbour authority said on Saturday.",
        },
        {
            "id": "ferry-lumen-gazette",
            "title": "Brightwater ferry operator sets new fare",
            "source": "Lumen Gazette",
            "published_at": "2024-05-10",
            "text": "Brightwater ferry operator sets new fare\n\nThe Brightwater ferry fare will rise to 9 euros "
            "in June, the ferry operator said on Friday.",
        },
    ]
)
_STOP = set(
    [
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "does",
        "did",
        "do",
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "how",
    ]
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOP}


def scripted_reply(request: dict[str, Any]) -> str:
    """Answer like a well-behaved model: quote the numbered sentence sharing most words with the question.

    Rewrite requests (follow-ups) get the last question of the history joined with the follow-up; the
    grounding check ("which of these options does the sentence state?") gets the option its answer said.
    """
    prompt = last_user(request)
    if '{"choice": ...}' in prompt:  # the check: a figure for "how many/much", else the first option
        schema = ((request.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
        options = [
            o for o in ((schema.get("properties") or {}).get("choice") or {}).get("enum") or [] if o != "none"
        ]
        asked = " ".join(str(m.get("content")) for m in request["messages"] if m.get("role") == "user")
        if re.search(r"\bhow (many|much)\b", asked, flags=re.IGNORECASE):
            options = [o for o in options if re.search(r"\d", o)] or options
        return json.dumps({"choice": options[0] if options else "none"})
    if "Standalone question:" in prompt:
        earlier = re.findall(r"^Q: (.*)$", prompt, flags=re.MULTILINE)
        final = re.search(r"Final question: (.*)", prompt)
        return " ".join([*(earlier[-1:]), final.group(1) if final else ""]).strip()
    match = re.search(r"Question: (.*)", prompt)
    question = _words(match.group(1) if match else "")
    best: tuple[int, int, str] = (0, 0, "")
    for n, text in re.findall(r"^\[(\d+)\] (.*)$", prompt, flags=re.MULTILINE):
        score = len(question & _words(text))
        if score > best[0]:
            best = (score, int(n), text)
    if best[0] < 2:
        return json.dumps({"answer": "", "sentence_ids": []})
    return json.dumps({"answer": best[2], "sentence_ids": [best[1]]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class UIServer:
    url: str
    settings: Settings
    stub: StubLLM
    app: Any
    out_dir: Path


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UIServer]:
    from qa import ui

    root = tmp_path_factory.mktemp("ui")
    articles = root / "articles"
    articles.mkdir()
    for f in sorted((PROJECT_ROOT / "articles").glob("*")):
        shutil.copy(f, articles / f.name)
    shutil.copy(XSS_ARTICLE, articles / XSS_ARTICLE.name)
    (articles / "ferry.jsonl").write_text(FERRY_JSONL + "\n", encoding="utf-8")
    out_dir = root / "out"
    out_dir.mkdir()
    with StubLLM() as stub:
        stub.responder = scripted_reply
        stub.delay_s = 0.8  # lets the sources panel be seen before the answer starts
        stub.chunk_chars = 12
        settings = settings_for(
            stub,
            articles_dir=articles,
            index_dir=root / "index",
            cache_dir=root / "cache",
            llm_timeout_s=30.0,
        )
        app = ui.build_app(settings)
        port = free_port()
        ui.launch(app, host="127.0.0.1", port=port, prevent_thread_lock=True)
        try:
            assert ui.wait_until_ready(app, timeout=300), "the startup index build did not finish"
            assert app.qa_state.phase == "ready", app.qa_state.error
            yield UIServer(f"http://127.0.0.1:{port}/", settings, stub, app, out_dir)
        finally:
            app.qa_state.stop()
            app.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `scripts/setup.sh --system-test-deps`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.set_default_timeout(60_000)
    try:
        yield pg
    finally:
        context.close()


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")

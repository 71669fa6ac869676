"""The chat UI: escaping and rendering (unit), the running app over its API, and a real browser."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qa import ui
from qa.types import Answer, Article, Citation, Passage
from tests.fixtures_ui import XSS_ARTICLE, UIServer, scripted_reply, wait_for
from tests.stub_openai import last_user

XSS = "<script>alert(1)</script> and <img src=x onerror=alert(2)>"
ZEPHYR_Q = "How much did the Zephyr Valley council approve for the bridge?"
SCRIPT_Q = "What unsafe code example did Ada Brightwater write in her council memo?"


# ------------------------------------------------------------------------------------------------
# Rendering (no server)


def _article(text: str) -> Article:
    return Article("a1", f"Title {XSS}", f"outlet {XSS}", "2024-01-02T10:00:00", "javascript:alert(3)", text)


def _answer(text: str, **kw: object) -> Answer:
    body = f"Before. The council wrote {XSS} in a memo. After."
    start = body.index("The council")
    end = body.index("memo.") + len("memo.")
    cite = Citation(1, "a1", f"T {XSS}", f"S {XSS}", body[start:end], start, end, "2024-01-02")
    passage = Passage("a1", f"T {XSS}", f"S {XSS}", None, body, 0, len(body), 1.0)
    return Answer("q", text, True, [cite], [passage], **kw)  # type: ignore[arg-type]


def test_everything_rendered_is_escaped() -> None:
    answer = _answer(f"The council wrote {XSS} [1].")
    article = _article(f"Before. The council wrote {XSS} in a memo. After.")
    html = (
        ui.render_answer(answer)
        + ui.render_answer_panel(answer, lambda _id: article)
        + ui.render_user(XSS)
        + ui.render_streaming(XSS)
        + ui.render_error(XSS)
    )
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html  # only http(s) links are shown


def test_citation_highlights_the_exact_span_with_context() -> None:
    text = "First sentence here. The quoted span <b>sits</b> here. Last sentence follows."
    quote = "The quoted span <b>sits</b> here."
    start = text.index(quote)
    html = ui.citation_context(text, start, start + len(quote), quote, width=25)
    assert "<mark>The quoted span &lt;b&gt;sits&lt;/b&gt; here.</mark>" in html
    assert "sentence here. " in html and " Last sentence" in html
    # offsets that do not match fall back to finding the quote
    assert "<mark>" in ui.citation_context(text, 0, 5, quote)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"conflict": True}, "Sources disagree"),
        ({"answerable": False}, "Not in the articles"),
        ({"extractive": True}, "quoted directly from the articles"),
        ({"notice": "Heads up <b>"}, "Heads up &lt;b&gt;"),
    ],
)
def test_answer_states_are_visible(kw: dict[str, object], expected: str) -> None:
    base = _answer("Twelve million [1].")
    answer = Answer(base.question, base.text, kw.pop("answerable", True), base.citations, base.passages, **kw)  # type: ignore[arg-type]
    html = ui.render_answer(answer)
    assert expected in html
    assert ("qa-abstain" in html) == (not answer.answerable)


def test_conflict_is_flagged_in_the_sources_panel() -> None:
    html = ui.render_answer_panel(_answer("x [1].", conflict=True), None)
    assert "Sources disagree" in html and "<mark>" in html


def test_parse_auth() -> None:
    assert ui.parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    assert ui.parse_auth(None) is None and ui.parse_auth("") is None
    with pytest.raises(ValueError):
        ui.parse_auth("no-colon")


def test_uploads_keep_distinct_files(tmp_path: Path) -> None:
    a = ui._store_upload(tmp_path, "../evil name.txt", b"one")
    b = ui._store_upload(tmp_path, "../evil name.txt", b"two")
    again = ui._store_upload(tmp_path, "../evil name.txt", b"one")
    assert a.parent == tmp_path and b.parent == tmp_path and a != b and again == a
    assert a.read_bytes() == b"one" and b.read_bytes() == b"two"


def test_app_flags_default_to_loopback_without_share(monkeypatch: pytest.MonkeyPatch) -> None:
    import app

    monkeypatch.delenv("QA_HOST", raising=False)
    monkeypatch.delenv("QA_PORT", raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "8123")
    args = app.parse_args(["--share"])
    assert (args.host, args.port, args.share) == ("0.0.0.0", 8123, True)


# ------------------------------------------------------------------------------------------------
# The running app through its API


def _last_bot(chat: list[dict]) -> str:
    content = chat[-1]["content"]
    if isinstance(content, list):  # Gradio may return content blocks
        return " ".join(str(c.get("text", c)) if isinstance(c, dict) else str(c) for c in content)
    return str(content)


def test_api_answers_with_a_citation(ui_server: UIServer) -> None:
    from gradio_client import Client

    client = Client(ui_server.url, verbose=False)
    chat, sources, box = client.predict(ZEPHYR_Q, api_name="/ask")
    bot = _last_bot(chat)
    assert "12 million dollars" in bot and "[1]" in bot, bot
    assert "Zephyr" in sources and "<mark>" in sources
    assert box == ""


def test_api_follow_up_uses_history_and_clear_resets(ui_server: UIServer) -> None:
    from gradio_client import Client

    def rewrite(request: dict) -> str:  # the model resolves "it" from the conversation
        if "Standalone question" in last_user(request):
            return "When will the Lumen River bridge open?"
        return scripted_reply(request)

    client = Client(ui_server.url, verbose=False)
    client.predict(ZEPHYR_Q, api_name="/ask")
    before = len(ui_server.stub.requests)
    ui_server.stub.responder = rewrite
    try:
        chat, _, _ = client.predict("When will it open?", api_name="/ask")
    finally:
        ui_server.stub.responder = scripted_reply
    rewrites = [r for r in ui_server.stub.requests[before:] if "Standalone question" in str(r)]
    assert rewrites and "Zephyr" in str(rewrites[0])  # the earlier turn reached the model
    assert len(chat) == 4 and "2026" in _last_bot(chat)
    chat, sources, _ = client.predict(api_name="/clear")
    assert chat == [] and "Ask a question" in sources
    before = len(ui_server.stub.requests)
    client.predict(ZEPHYR_Q, api_name="/ask")
    assert not any("Standalone question" in str(r) for r in ui_server.stub.requests[before:])


def test_api_bad_question_shows_a_message_not_a_traceback(ui_server: UIServer) -> None:
    from gradio_client import Client

    chat, _, _ = Client(ui_server.url, verbose=False).predict("   ", api_name="/ask")
    bot = _last_bot(chat)
    assert "Could not answer" in bot and "Traceback" not in bot


def test_eight_simultaneous_questions_all_get_answers(ui_server: UIServer) -> None:
    from gradio_client import Client

    def ask(_: int) -> str:
        chat, _, _ = Client(ui_server.url, verbose=False).predict(ZEPHYR_Q, api_name="/ask")
        return _last_bot(chat)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert all("12 million dollars" in a and "[1]" in a for a in answers), answers


# ------------------------------------------------------------------------------------------------
# A real browser


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")


def _final_answer(page, n: int = 1) -> str:  # type: ignore[no-untyped-def]
    """Wait for the n-th final answer (or error) in the chat and return its text."""
    done = page.locator("#qa-chat .qa-answer:not(.qa-pending):not(.qa-streaming)")
    wait_for(lambda: done.count() >= n, timeout=60)
    return done.nth(n - 1).inner_text()


@pytest.mark.browser
def test_browser_sources_first_then_streamed_answer_and_highlighted_citation(
    ui_server: UIServer, page
) -> None:  # type: ignore[no-untyped-def]
    page.add_init_script(
        "new MutationObserver(() => { if (document.querySelector('#qa-chat .qa-streaming')) window.qaStreamed = true; })"
        ".observe(document, {subtree: true, childList: true, characterData: true});"
    )
    page.goto(ui_server.url)
    page.wait_for_selector("#qa-status .qa-dot-ok")
    assert "chunks" in page.inner_text("#qa-status")
    _ask(page, "How many asylum seekers set off for the US on Sunday?")
    page.wait_for_selector("#qa-sources .qa-source")
    # The sources are on screen while the answer is still being written.
    assert page.locator("#qa-chat .qa-answer .qa-text").count() == 0
    answer = _final_answer(page)
    assert "8,000" in answer and "[1]" in answer, answer
    assert page.evaluate("window.qaStreamed === true")  # the answer was shown while it was written
    cite = page.locator("#qa-sources details.qa-cite").first
    assert not cite.locator("mark").is_visible()
    cite.locator("summary").click()
    mark = cite.locator("mark")
    mark.wait_for(state="visible")
    assert "8,000 asylum seekers" in mark.inner_text()
    page.screenshot(path=str(ui_server.out_dir / "answered.png"), full_page=True)
    shutil.copy(ui_server.out_dir / "answered.png", "/tmp/qa-ui.png")
    assert page.dialogs == []


@pytest.mark.browser
def test_browser_article_markup_is_shown_as_text(ui_server: UIServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(ui_server.url)
    _ask(page, SCRIPT_Q)
    answer = _final_answer(page)
    assert "<script>alert(1)</script>" in answer  # the model's quote, shown literally
    page.locator("#qa-sources details.qa-cite summary").first.click()
    page.wait_for_selector("#qa-sources details.qa-cite mark")
    assert "<script>alert(1)</script>" in page.inner_text("#qa-sources")
    assert "<img src=x onerror=alert(2)>" in page.inner_text("#qa-sources")
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#qa-chat script, #qa-sources script").count() == 0


def _upload(page, files: list[Path]) -> str:  # type: ignore[no-untyped-def]
    page.goto(page.url)
    page.wait_for_selector("#qa-status .qa-dot-ok")
    page.get_by_text("Add articles").click()
    page.locator("#qa-upload input[type=file]").set_input_files([str(f) for f in files])
    page.wait_for_selector("#qa-upload-report .qa-up-ok, #qa-upload-report .qa-up-bad", timeout=120_000)
    return page.inner_text("#qa-upload-report")


@pytest.mark.browser
def test_browser_upload_reports_each_file(ui_server: UIServer, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "quillfeather.md"
    good.write_text(
        "# Quillfeather robotics raises money for orchard robots\n\n"
        "The orchard robotics start-up Quillfeather raised 40 million euros from investors in Lyon on Monday.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "broken.jsonl"
    bad.write_text("this is not json\n", encoding="utf-8")
    page.goto(ui_server.url)
    before = ui_server.app.qa_state.stats.articles
    report = _upload(page, [good, bad])
    assert "quillfeather.md" in report and "broken.jsonl" in report, report
    assert page.locator("#qa-upload-report .qa-up-ok").count() == 1
    assert page.locator("#qa-upload-report .qa-up-bad").count() == 1
    wait_for(lambda: f"{before + 1} articles" in page.inner_text("#qa-status"))
    assert not (ui_server.settings.articles_dir / "quillfeather.md").exists()  # articles/ is never touched
    assert (ui_server.settings.index_dir.parent / "uploads" / "quillfeather.md").exists()
    assert XSS_ARTICLE.exists()


@pytest.mark.browser
def test_browser_uploaded_article_is_answerable_right_after(
    ui_server: UIServer, page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    Client(ui_server.url, verbose=False).predict(ZEPHYR_Q, api_name="/ask")  # the pipeline is warm
    upload = tmp_path / "marlowe.txt"
    upload.write_text(
        "Marlowe ferry line adds night crossings\n\n"
        "The Marlowe ferry line will add 14 night crossings between Oban and Mull from 3 March.\n",
        encoding="utf-8",
    )
    page.goto(ui_server.url)
    assert "marlowe.txt" in _upload(page, [upload])
    _ask(page, "How many night crossings will the Marlowe ferry line add between Oban and Mull?")
    answer = _final_answer(page)
    assert "14 night crossings" in answer, answer
    assert "Marlowe" in page.inner_text("#qa-sources")

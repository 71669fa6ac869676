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


def test_app_has_no_share_flag_and_defaults_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    import app

    monkeypatch.delenv("QA_HOST", raising=False)
    monkeypatch.delenv("QA_PORT", raising=False)
    args = app.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "8123")
    args = app.parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 8123)
    with pytest.raises(SystemExit):
        app.parse_args(["--share"])


def test_markers_link_to_their_quote_and_passages_are_lettered() -> None:
    answer = _answer("The council wrote it [1]. Unknown [7].")
    html = ui.render_answer(answer, "t1")
    assert 'href="#qa-c-t1-1"' in html and 'id="qa-c-t1-1"' in html
    assert 'title="“The council wrote &lt;script&gt;' in html  # hover shows the (escaped) quote
    assert '<span class="qa-marker">[7]</span>' in html  # a marker without a citation links nowhere
    panel = ui.render_answer_panel(answer, None, "t1")
    assert 'id="qa-p-t1-1"' in panel and 'id="qa-c-t1-1"' not in panel  # ids stay unique on the page
    sources = ui.render_sources(answer.passages * 3)
    assert [ui.passage_label(i) for i in (0, 1, 25, 26)] == ["A", "B", "Z", "P27"]
    assert '<span class="qa-num" title="Passage A">A</span>' in sources
    assert 'class="qa-num" title="Passage 1"' not in sources


def test_a_draft_that_differs_is_never_silently_replaced() -> None:
    answer = _answer("Twelve million [1].")
    same = ui.render_answer(answer, "t1", draft="Twelve   million.")
    assert "differs from the draft" not in same
    changed = ui.render_answer(answer, "t1", draft="Thirteen million.")
    assert "differs from the draft" in changed and "<del>Thirteen million.</del>" in changed
    assert "Draft" in ui.render_streaming("Thirteen")
    assert "Thirteen" in ui.render_stopped("Thirteen") and "not checked" in ui.render_stopped("Thirteen")


def test_stored_conversation_is_validated_and_bounded() -> None:
    good = {"id": "a", "question": "q", "answer_text": "x", "user": "u", "bot": "b", "panel": "p"}
    assert ui.valid_turns([good, {"question": 3}, "junk"]) == [good]
    assert ui.valid_turns({"not": "a list"}) == []
    stored = ui.for_storage([dict(good, id=str(i)) for i in range(40)])
    assert len(stored) == 30 and stored[-1]["id"] == "39"
    assert stored[-1]["panel"] == "p" and all(t["panel"] is None for t in stored[:-1])


def test_dates_in_the_settings_panel() -> None:
    assert ui.check_date("", "from") is None and ui.check_date(" 2024-05 ", "from") == "2024-05"
    for bad in ("May 2024", "2024-13-01", "2024-05-40", "24-05-01"):
        with pytest.raises(ValueError):
            ui.check_date(bad, "from")


def test_stop_closes_the_answer_stream() -> None:
    import threading

    closed = threading.Event()
    release = threading.Event()

    def events():
        try:
            yield "first"
            release.wait(5)
            yield "second"
            yield "third"
        finally:
            closed.set()

    cancel = threading.Event()
    q = ui.pump(events, cancel)
    assert q.get(timeout=5) == ("event", "first")
    cancel.set()
    release.set()
    assert closed.wait(5)  # the generator was closed (GeneratorExit ran its finally)
    rest = [q.get(timeout=5) for _ in range(1)]
    assert rest == [("done", None)]  # "second" was not passed on


def test_login_throttle_slows_repeated_wrong_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.ui import state

    slept: list[float] = []
    monkeypatch.setattr(state.time, "sleep", slept.append)
    check = ui.LoginThrottle("ann", "secret")
    assert [check("ann", f"guess{i}") for i in range(6)] == [False] * 6
    assert slept == [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    assert check.delay() == 8.0
    assert check("ann", "secret") is True and check.delay() == 0.0


def test_launch_prints_no_share_hint(capsys: pytest.CaptureFixture[str]) -> None:
    import gradio as gr

    from tests.fixtures_ui import free_port

    with gr.Blocks() as blocks:
        gr.Markdown("hello")
    ui.launch(blocks, port=free_port(), prevent_thread_lock=True)
    try:
        out = capsys.readouterr().out
    finally:
        blocks.close()
    assert "share=True" not in out and "public link" not in out
    assert "qa chat: http://127.0.0.1:" in out


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
    chat, sources, box, *_ = client.predict(ZEPHYR_Q, api_name="/ask")
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
        chat, _, _, *_ = client.predict("When will it open?", api_name="/ask")
    finally:
        ui_server.stub.responder = scripted_reply
    rewrites = [r for r in ui_server.stub.requests[before:] if "Standalone question" in str(r)]
    assert rewrites and "Zephyr" in str(rewrites[0])  # the earlier turn reached the model
    assert len(chat) == 4 and "2026" in _last_bot(chat)
    chat, sources, _, *_ = client.predict(api_name="/clear")
    assert chat == [] and "Ask a question" in sources
    before = len(ui_server.stub.requests)
    client.predict(ZEPHYR_Q, api_name="/ask")
    assert not any("Standalone question" in str(r) for r in ui_server.stub.requests[before:])


def test_api_bad_question_shows_a_message_not_a_traceback(ui_server: UIServer) -> None:
    from gradio_client import Client

    chat, _, _, *_ = Client(ui_server.url, verbose=False).predict("   ", api_name="/ask")
    bot = _last_bot(chat)
    assert "Could not answer" in bot and "Traceback" not in bot


def test_api_huge_question_is_refused_once_and_not_echoed(ui_server: UIServer) -> None:
    from gradio_client import Client

    huge = "How big is the caravan? " * 450_000  # about 10 MB
    chat, _, box, *_ = Client(ui_server.url, verbose=False).predict(huge, api_name="/ask")
    assert box == ""  # not handed back to the text box
    assert len(chat) == 2  # the (shortened) question and one refusal
    shown = " ".join(str(m["content"]) for m in chat)
    assert len(shown) < 2_000 and "characters long" in shown and "QA_MAX_QUESTION_CHARS" in shown


def test_with_a_login_the_page_does_not_describe_the_api(tmp_path: Path) -> None:
    import httpx

    from qa.config import Settings
    from tests.fixtures_ui import free_port

    settings = Settings(index_dir=tmp_path / "index", articles_dir=tmp_path, cache_dir=tmp_path / "cache")
    pages = {}
    for auth, visibility in ((None, "public"), (("ann", "pw"), "undocumented")):
        app = ui.build_app(
            settings, build_index_on_start=False, warm_model_on_start=False, api_visibility=visibility
        )
        port = free_port()
        ui.launch(app, port=port, auth=auth, prevent_thread_lock=True)
        try:
            pages[visibility] = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).text
        finally:
            app.qa_state.stop()
            app.close()
    assert '"/ask"' in pages["public"]  # the control: without a login the API is described
    for endpoint in ('"/ask"', '"/upload"', '"/remove_upload"'):
        assert endpoint not in pages["undocumented"]


def test_eight_simultaneous_questions_all_get_answers(ui_server: UIServer) -> None:
    from gradio_client import Client

    def ask(_: int) -> str:
        chat, _, _, *_ = Client(ui_server.url, verbose=False).predict(ZEPHYR_Q, api_name="/ask")
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
    page.wait_for_selector("#qa-status .qa-index-ok")
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
    page.wait_for_selector("#qa-status .qa-index-ok")
    page.get_by_text("Add articles").click()
    page.locator("#qa-upload input[type=file]").set_input_files([str(f) for f in files])
    page.wait_for_selector("#qa-upload-report .qa-up-ok, #qa-upload-report .qa-up-bad", timeout=120_000)
    wait_for(lambda: page.locator("#qa-upload-report .qa-up-wait").count() == 0, timeout=120)
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


def test_status_line_says_when_the_model_is_loading_and_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import threading

    from qa import engine
    from qa.config import Settings

    release = threading.Event()
    calls: list[object] = []

    def warm(settings: object, **_: object) -> float:
        calls.append(settings)
        release.wait(5)
        return 1.0

    monkeypatch.setattr(engine, "warm", warm)
    state = ui.IndexState(Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"))
    thread = threading.Thread(target=state._warm)
    thread.start()
    wait_for(lambda: calls)
    assert "Loading the model…" in ui.render_status(state)
    release.set()
    thread.join(5)
    assert "Model ready" in ui.render_status(state)

    def broken(settings: object, **_: object) -> float:
        raise OSError("no space left for the model file")

    monkeypatch.setattr(engine, "warm", broken)
    state._warm()
    html = ui.render_status(state)
    assert "Model unavailable" in html and "no space left" in html


def test_status_line_follows_index_changes_made_elsewhere(tmp_path: Path) -> None:
    from qa.config import Settings
    from qa.index import build_index, remove_articles

    articles = tmp_path / "articles"
    articles.mkdir()
    for name, text in (
        ("a.txt", "Alpha headline\n\nAlpha body text here."),
        ("b.txt", "Beta headline\n\nBeta body."),
    ):
        (articles / name).write_text(text, encoding="utf-8")
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    state = ui.IndexState(settings)
    state.refresh(force=True)
    assert state.stats is None  # no index yet
    build_index(None, settings=settings, progress=False)  # another process would do the same
    assert state.refresh() and state.stats.articles == 2
    assert not state.refresh()  # nothing changed: nothing re-read
    assert "2 articles" in ui.render_status(ui.IndexState(settings, phase="ready", stats=state.stats))
    gone = [a.id for a in state.library() if a.title.startswith("Alpha")]
    remove_articles(gone, settings=settings)
    assert state.refresh() and state.stats.articles == 1
    assert [a.title for a in state.library()] == ["Beta headline"]

"""The chat app: a thin Gradio shell over ``ask_stream``, the index and the uploads folder.

It turns the core's event stream into screen updates and holds no pipeline logic. The answer runs
in a worker thread that feeds a queue, so the screen is refreshed at least once a second (stages
and elapsed time, never a bare spinner) and Stop takes effect at once; the worker then closes the
``ask_stream`` generator, which closes the model's HTTP stream. Leaving the page does the same.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from qa.config import Settings
from qa.errors import QAError
from qa.types import Delta, Final, Sources, Status
from qa.ui.assets import CSS, HEADER, JS, THEME
from qa.ui.render import (
    SOURCES_PLACEHOLDER,
    esc,
    render_answer,
    render_answer_panel,
    render_error,
    render_library,
    render_pending,
    render_sources,
    render_stopped,
    render_streaming,
    render_user,
)
from qa.ui.state import IndexState, LoginThrottle, check_date

log = logging.getLogger(__name__)

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".jsonl"]
EXAMPLES = [
    "Why did Blinken and Mayorkas travel to Mexico?",
    "How many migrants were in the caravan heading north?",
    "What did López Obrador ask the United States for in return?",
]
HISTORY_TURNS = 6  # earlier turns passed to ask_stream for follow-ups
SAVED_TURNS = 30  # turns kept in the browser's local storage
INDEX_WAIT_S = 600.0  # how long a question waits for the startup build before giving up
REFRESH_S = 1.0  # the longest the screen goes without an update while an answer is prepared
SHOWN_QUESTION_CHARS = 300  # of a refused, over-long question, what is shown back
STORAGE_KEY = "qa-chat-v1"
ALL_OUTLETS = ""

AskStream = Callable[..., Iterator[Any]]
LAUNCH_STYLE: dict[str, Any] = {"theme": THEME, "css": CSS, "js": JS}


# --------------------------------------------------------------------------------------------------
# Status line


def render_status(state: IndexState) -> str:
    name = esc(state.model or "…")
    if state.model_phase == "loading":
        model = (
            f'<span class="qa-dot qa-dot-busy"></span>Loading the model… <span class="qa-meta">{name}</span>'
        )
    elif state.model_phase == "ready":
        model = f'<span class="qa-dot qa-dot-ok"></span>Model ready <span class="qa-meta">{name}</span>'
    elif state.model_phase == "error":
        model = (
            f'<span class="qa-dot qa-dot-error"></span><span title="{esc(state.model_error)}">'
            "Model unavailable: answers quote the articles</span>"
        )
    elif state.model_phase == "remote":
        model = f'<span class="qa-dot qa-dot-ok"></span>{name}'
    else:
        model = name
    if state.phase in ("starting", "indexing"):
        pct = f" {state.progress:.0%}" if state.progress is not None else ""
        detail = f" — {esc(state.detail)}" if state.detail else ""
        index = f'<span class="qa-dot qa-dot-busy"></span>indexing…{pct}{detail}'
    elif state.phase == "error":
        index = f'<span class="qa-dot qa-dot-error"></span>index unavailable: {esc(state.error)}'
    elif state.stats is not None:
        index = (
            f'<span class="qa-dot qa-dot-ok qa-index-ok"></span>{state.stats.articles:,} articles · '
            f"{state.stats.chunks:,} chunks"
        )
    else:
        index = '<span class="qa-dot qa-dot-ok qa-index-ok"></span>ready'
    return (
        f'<div class="qa-status"><span class="qa-status-item"><b>Model</b> {model}</span>'
        f'<span class="qa-status-item"><b>Index</b> {index}</span></div>'
    )


# --------------------------------------------------------------------------------------------------
# Answers in a worker thread, cancellable per browser session


class Runs:
    """The cancel flag of each session's running answer (Stop, or the page was left)."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session: str) -> threading.Event:
        flag = threading.Event()
        with self._lock:
            old = self._flags.get(session)
            if old is not None:
                old.set()  # one answer per session: a new question stops the previous one
            self._flags[session] = flag
        return flag

    def finish(self, session: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get(session) is flag:
                del self._flags[session]

    def cancel(self, session: str) -> bool:
        with self._lock:
            flag = self._flags.get(session)
        if flag is not None:
            flag.set()
        return flag is not None


def pump(make_events: Callable[[], Iterator[Any]], cancel: threading.Event) -> queue.Queue:
    """Iterate ``make_events()`` in a daemon thread into a queue of (kind, item).

    Kinds: "event", "error" (an exception), then always "done". When ``cancel`` is set the thread
    stops at the next event and closes the generator, which closes the model connection.
    """
    out: queue.Queue = queue.Queue()

    def run() -> None:
        events: Any = None
        try:
            events = make_events()
            for event in events:
                if cancel.is_set():
                    break
                out.put(("event", event))
        except BaseException as exc:  # handed to the consumer, which reports it
            out.put(("error", exc))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.debug("closing the answer stream failed", exc_info=True)
            out.put(("done", None))

    threading.Thread(target=run, name="qa-answer", daemon=True).start()
    return out


class Progress:
    """The stages of one answer as they happen, for the pending message."""

    def __init__(self, first: str) -> None:
        self.stages: list[tuple[str, bool]] = [(first, False)]
        self.placeholder = False  # the current stage is a guess, to be replaced by the next Status

    def advance(self, text: str, *, placeholder: bool = False) -> None:
        if self.placeholder and self.stages and not self.stages[-1][1]:
            self.stages.pop()
        elif self.stages and not self.stages[-1][1]:
            self.stages[-1] = (self.stages[-1][0], True)
        if not self.stages or self.stages[-1][0] != text:
            self.stages.append((text, False))
        self.placeholder = placeholder

    def found(self, text: str) -> None:
        """Replace the search stage with what it found (shown as done)."""
        if self.stages and not self.stages[-1][1]:
            self.stages[-1] = (text, True)
        else:
            self.stages.append((text, True))
        self.placeholder = False

    def current(self) -> list[tuple[str, bool]]:
        return [s for s in self.stages if not s[1]][-1:]


STAGE_TEXT = {
    "retrieving": "Searching the articles…",
    "reading": "Reading the passages…",
    "writing": "Writing the answer…",
    "checking": "Checking citations…",
}


def _filters_text(filters: dict[str, str], k: int | None, rerank: bool | None) -> str:
    parts = []
    if filters.get("source"):
        parts.append(filters["source"])
    if filters.get("since"):
        parts.append(f"since {filters['since']}")
    if filters.get("until"):
        parts.append(f"until {filters['until']}")
    if k:
        parts.append(f"{k} passages")
    if rerank is False:
        parts.append("no reranking")
    return f" ({', '.join(parts)})" if parts else ""


# --------------------------------------------------------------------------------------------------
# Conversation records (also what the browser stores)


def _messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for t in turns:
        out += [{"role": "user", "content": t["user"]}, {"role": "assistant", "content": t["bot"]}]
    return out


_TURN_KEYS = ("id", "question", "answer_text", "user", "bot")


def valid_turns(value: Any) -> list[dict[str, Any]]:
    """Turns as stored (browser or session state); anything malformed is dropped."""
    if not isinstance(value, list):
        return []
    out = []
    for t in value:
        if isinstance(t, dict) and all(isinstance(t.get(k), str) for k in _TURN_KEYS):
            panel = t.get("panel")
            out.append({**{k: t[k] for k in _TURN_KEYS}, "panel": panel if isinstance(panel, str) else None})
    return out


def for_storage(turns: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last SAVED_TURNS turns; only the latest keeps its side panel (passages are bulky)."""
    kept = [dict(t) for t in turns[-SAVED_TURNS:]]
    for t in kept[:-1]:
        t["panel"] = None
    return kept


def browser_secret(settings: Settings) -> str:
    """A per-installation key for the conversation stored in the browser (kept across restarts)."""
    path = Path(settings.cache_dir) / "chat-secret"
    try:
        text = path.read_text("utf-8").strip()
        if len(text) >= 32:
            return text
    except OSError:
        pass
    secret = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(secret, "utf-8")
        tmp.chmod(0o600)
        os.replace(tmp, path)
    except OSError:  # a read-only cache: the conversation survives reloads, not restarts
        log.debug("cannot store the chat secret in %s", path, exc_info=True)
    return secret


# --------------------------------------------------------------------------------------------------
# Uploads and the articles panel


UPLOAD_WAIT_S = 600.0  # how long the upload request shows progress before leaving indexing to the worker


def render_upload_report(reports: Sequence[Any]) -> str:
    """One line per file of the batch, from :class:`qa.uploads.FileReport`."""
    lines = []
    for r in reports:
        status = getattr(r, "status", "")
        if status == "queued":
            cls, sign = "qa-up-wait", "…"
        elif r.ok:
            cls, sign = "qa-up-ok", "✓"
        else:
            cls, sign = "qa-up-bad", "✗"
        lines.append(f'<div class="{cls}">{sign} <b>{esc(r.name)}</b> — {esc(r.message)}</div>')
    return "".join(lines)


def upload_files(files: Sequence[str], state: IndexState, settings: Settings) -> Iterator[str]:
    """Check, save and index an upload (:func:`qa.uploads.upload_batch`); yields the report as it changes.

    Indexing runs on the uploads' background worker under the chat's write lock; questions never wait
    for it. The report is shown at once (files refused or queued), then once more when indexed.
    """
    from qa.uploads import upload_batch

    batch = upload_batch(
        list(files),
        settings,
        lock=state.lock,
        ready=state.ready,
        on_progress=state.on_progress,
        on_indexed=lambda: state.refresh(force=True),
    )
    yield render_upload_report(batch.reports)
    if not batch.done.is_set():
        reports = batch.wait(UPLOAD_WAIT_S)
        state.progress = None
        yield render_upload_report(reports)


def remove_upload(name: str, state: IndexState, settings: Settings) -> str:
    """Remove an uploaded file's articles from the index, then the file itself."""
    if not name or Path(name).name != name:
        return '<div class="qa-up-bad">Pick an uploaded file to remove.</div>'
    from qa import index

    remove = getattr(index, "remove_articles", None)
    with state.lock:
        ids = [r.id for r in state.library() if r.upload == name]
        try:
            if ids:
                if remove is None:  # TODO: the store's removal has not landed in this build
                    return '<div class="qa-up-bad">This build cannot remove articles yet.</div>'
                remove(ids, settings=settings)
            (state.uploads_dir / name).unlink(missing_ok=True)
        except (QAError, OSError, KeyError) as exc:
            return f'<div class="qa-up-bad">✗ <b>{esc(name)}</b> — could not remove it: {esc(exc)}</div>'
        finally:
            state.refresh(force=True)
    what = f"{len(ids)} articles" if len(ids) != 1 else "1 article"
    return f'<div class="qa-up-ok">✓ <b>{esc(name)}</b> removed ({what} left the index).</div>'


def _upload_choices(state: IndexState) -> list[tuple[str, str]]:
    counts: dict[str, int] = {}
    for r in state.library():
        if r.upload:
            counts[r.upload] = counts.get(r.upload, 0) + 1
    return [(f"{name} — {n} article{'s' if n != 1 else ''}", name) for name, n in sorted(counts.items())]


def _outlet_choices(state: IndexState) -> list[tuple[str, str]]:
    counts: dict[str, int] = {}
    for r in state.library():
        if r.source:
            counts[r.source] = counts.get(r.source, 0) + 1
    return [("All outlets", ALL_OUTLETS)] + [(f"{s} ({n})", s) for s, n in sorted(counts.items())]


# --------------------------------------------------------------------------------------------------
# The app


def _default_ask_stream() -> AskStream:
    from qa.answer import ask_stream

    return ask_stream


def _default_get_article(settings: Settings) -> Callable[[str], Any]:
    from qa.retrieve import get_article

    return lambda article_id: get_article(article_id, settings=settings)


def build_app(
    settings: Settings | None = None,
    *,
    build_index_on_start: bool = True,
    warm_model_on_start: bool = True,
    ask_stream: AskStream | None = None,
    get_article: Callable[[str], Any] | None = None,
    concurrency: int = 4,
    api_visibility: str = "public",
) -> gr.Blocks:
    """The chat app over ``settings`` (default: from the environment).

    The startup index build and the model warm-up run in background threads, so the page is
    usable at once; a question asked meanwhile waits for the build. ``api_visibility="undocumented"``
    keeps the API out of the page (used when a login is required).
    """
    settings = settings or Settings.from_env()
    state = IndexState(settings)
    state.start(build=build_index_on_start, warm=warm_model_on_start)
    runs = Runs()
    _ask = ask_stream
    _get = get_article
    vis: Any = api_visibility

    def ask_fn() -> AskStream:
        nonlocal _ask
        if _ask is None:
            _ask = _default_ask_stream()
        return _ask

    def get_fn() -> Callable[[str], Any]:
        nonlocal _get
        if _get is None:
            _get = _default_get_article(settings)
        return _get

    def request_settings(rerank: bool | None) -> Settings:
        if rerank is None or not hasattr(settings, "rerank"):
            return settings
        return dataclasses.replace(settings, rerank=bool(rerank))  # type: ignore[call-arg]

    def answer(
        question: Any,
        turns: list[dict[str, Any]],
        outlet: str | None,
        since: str | None,
        until: str | None,
        k: float | None,
        rerank: bool | None,
        session: str,
    ) -> Iterator[tuple[Any, ...]]:
        """One question; yields (chat messages, side panel, textbox, turns, stored turns)."""
        skip = gr.skip()
        question = question if isinstance(question, str) else ""
        messages = _messages(turns)
        limit = settings.max_question_chars
        if len(question) > limit:  # refused once, and never echoed back in full
            messages += [
                {"role": "user", "content": render_user(question, limit=SHOWN_QUESTION_CHARS)},
                {
                    "role": "assistant",
                    "content": render_error(
                        f"The question is {len(question):,} characters long; the limit is {limit:,} "
                        "(QA_MAX_QUESTION_CHARS). Please shorten it."
                    ),
                },
            ]
            yield messages, skip, "", turns, skip
            return
        try:
            filters = {
                key: value
                for key, value in (
                    ("source", (outlet or "").strip() or None),
                    ("since", check_date(since, "from")),
                    ("until", check_date(until, "to")),
                )
                if value
            }
        except ValueError as exc:
            messages += [
                {"role": "user", "content": render_user(question)},
                {"role": "assistant", "content": render_error(str(exc))},
            ]
            yield messages, skip, question, turns, skip
            return
        n = int(k) if k else None
        progress = Progress("Searching the articles" + _filters_text(filters, n, rerank) + "…")
        t0 = time.monotonic()
        messages += [
            {"role": "user", "content": render_user(question)},
            {"role": "assistant", "content": render_pending("", progress.stages, 0)},
        ]
        yield messages, skip, "", turns, skip
        cancel = runs.start(session)
        streamed = ""
        try:
            if not state.ready.is_set():
                progress.advance("The index is still being built; your question is next…")
                while not state.ready.wait(REFRESH_S):
                    if cancel.is_set():
                        break
                    messages[-1]["content"] = render_pending("", progress.stages, time.monotonic() - t0)
                    yield messages, skip, "", turns, skip
                progress.advance("Searching the articles…")
            history = [(t["question"], t["answer_text"]) for t in turns[-HISTORY_TURNS:] if t["answer_text"]]
            s = request_settings(rerank)
            events = pump(
                lambda: ask_fn()(question, history=history or None, settings=s, k=n, **filters), cancel
            )
            last = time.monotonic()
            while True:
                try:
                    kind, item = events.get(timeout=0.2)
                except queue.Empty:
                    kind, item = "tick", None
                if cancel.is_set():
                    messages[-1]["content"] = render_stopped(streamed)
                    turns = [*turns, _turn(question, "", messages[-2]["content"], messages[-1]["content"])]
                    yield messages, skip, "", turns, for_storage(turns)
                    return
                if kind == "done":
                    break
                if kind == "error":
                    raise item
                if kind == "event" and isinstance(item, Final):
                    a = item.answer
                    turn_id = uuid.uuid4().hex[:8]
                    content = render_answer(a, turn_id, get_fn(), draft=streamed or None)
                    side = render_answer_panel(a, get_fn(), turn_id)
                    messages[-1]["content"] = content
                    turns = [*turns, _turn(question, a.text, messages[-2]["content"], content, turn_id, side)]
                    yield messages, side, "", turns, for_storage(turns)
                    return
                panel: Any = skip
                if kind == "event":
                    if isinstance(item, Status):
                        text = (item.message or "").strip() or STAGE_TEXT.get(item.stage)
                        # "retrieving" is the first stage already shown; unknown stages are ignored.
                        if item.stage in STAGE_TEXT and item.stage != "retrieving" and text:
                            progress.advance(text)
                    elif isinstance(item, Sources):
                        arts = len({p.article_id for p in item.passages})
                        progress.found(
                            f"Found {len(item.passages)} passages in {arts} article{'s' if arts != 1 else ''}"
                            if item.passages
                            else "No passages found"
                        )
                        progress.advance(STAGE_TEXT["reading"], placeholder=True)
                        panel = render_sources(item.passages)
                    elif isinstance(item, Delta):
                        streamed += item.text
                    else:
                        continue  # unknown events are ignored
                elif time.monotonic() - last < REFRESH_S:
                    continue
                elapsed = time.monotonic() - t0
                if streamed:
                    current = [s for s in progress.current() if s[0] != STAGE_TEXT["writing"]]
                    messages[-1]["content"] = render_streaming(streamed, current, elapsed)
                else:
                    messages[-1]["content"] = render_pending("", progress.stages, elapsed)
                last = time.monotonic()
                yield messages, panel, "", turns, skip
            messages[-1]["content"] = render_error("The answer ended without a result. Please try again.")
            yield messages, skip, question, turns, skip
        except QAError as exc:
            messages[-1]["content"] = render_error(str(exc))
            yield messages, skip, question, turns, skip
        except Exception:
            log.exception("answering failed")
            messages[-1]["content"] = render_error("Something went wrong while answering. Please try again.")
            yield messages, skip, question, turns, skip
        finally:  # also when Gradio closes this generator (the page was left)
            cancel.set()
            runs.finish(session, cancel)

    def respond(
        question: str,
        turns: Any,
        outlet: str | None,
        since: str | None,
        until: str | None,
        k: float | None,
        rerank: bool | None,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        yield from answer(question, valid_turns(turns), outlet, since, until, k, rerank, _session(request))

    def regenerate(
        turns: Any,
        outlet: str | None,
        since: str | None,
        until: str | None,
        k: float | None,
        rerank: bool | None,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again (with the current settings), replacing its answer."""
        turns = valid_turns(turns)
        if not turns:
            yield [], gr.skip(), gr.skip(), [], gr.skip()
            return
        last = turns[-1]
        yield from answer(last["question"], turns[:-1], outlet, since, until, k, rerank, _session(request))

    def stop(request: gr.Request) -> None:
        runs.cancel(_session(request))

    def clear() -> tuple[Any, ...]:
        """Forget the conversation (here and in the browser); the text being typed stays."""
        return [], SOURCES_PLACEHOLDER, [], []

    def restore(saved: Any) -> tuple[Any, ...]:
        turns = valid_turns(saved)[-SAVED_TURNS:]
        panel = (turns[-1].get("panel") if turns else None) or SOURCES_PLACEHOLDER
        return _messages(turns), panel, turns

    def upload(files: list[str] | str | None) -> Iterator[tuple[Any, ...]]:
        if not files:
            yield gr.skip(), render_status(state), gr.skip()
            return
        files = [files] if isinstance(files, str) else list(files)
        for report in upload_files(files, state, settings):
            yield report, render_status(state), None

    def library_view(query: str | None) -> tuple[Any, ...]:
        return (
            render_library(state.library(), query or ""),
            gr.update(choices=_upload_choices(state), value=None),
            gr.update(choices=_outlet_choices(state)),
        )

    def remove(name: str | None, query: str | None) -> tuple[Any, ...]:
        report = remove_upload(name or "", state, settings)
        return (report, render_status(state), *library_view(query))

    def tick(seen: int | None, query: str | None) -> tuple[Any, ...]:
        """Every few seconds: the status line; the panels only when the index changed."""
        status = render_status(state)
        if seen == state.generation:
            return status, gr.skip(), gr.skip(), gr.skip(), seen
        return (status, *library_view(query), state.generation)

    with gr.Blocks(title="qa — Ask the news", analytics_enabled=False) as app:
        gr.HTML(HEADER)
        status = gr.HTML(render_status(state), elem_id="qa-status")
        turns_state = gr.State([])
        saved = gr.BrowserState([], storage_key=STORAGE_KEY, secret=browser_secret(settings))
        seen_generation = gr.State(-1)
        with gr.Row(equal_height=False):
            with gr.Column(scale=7):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat",
                    show_label=False,
                    height=560,
                    sanitize_html=True,
                    render_markdown=True,
                    feedback_options=None,
                    buttons=[],
                    placeholder="**Ask a question about the articles.** Answers cite the exact sentences they rest on.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask about the news… (Enter to send)",
                        show_label=False,
                        scale=8,
                        lines=1,
                        max_lines=4,
                        elem_id="qa-question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-send")
                    stop_btn = gr.Button(
                        "Stop", variant="stop", scale=1, min_width=80, elem_id="qa-stop", visible=False
                    )
                    clear_btn = gr.Button(
                        "Clear", variant="secondary", scale=1, min_width=80, elem_id="qa-clear"
                    )
                gr.Examples(EXAMPLES, inputs=question, label="Try")
            with gr.Column(scale=5):
                sources = gr.HTML(
                    SOURCES_PLACEHOLDER, elem_id="qa-sources", container=True, padding=True, max_height=640
                )
                with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                    gr.Markdown("Applies to the next question.", elem_id="qa-settings-line")
                    outlet = gr.Dropdown(
                        choices=[("All outlets", ALL_OUTLETS)],
                        value=ALL_OUTLETS,
                        label="Outlet",
                        elem_id="qa-outlet",
                        allow_custom_value=False,
                    )
                    with gr.Row():
                        since = gr.Textbox(
                            "", label="From (YYYY-MM-DD)", placeholder="any", elem_id="qa-since"
                        )
                        until = gr.Textbox("", label="To (YYYY-MM-DD)", placeholder="any", elem_id="qa-until")
                    k = gr.Slider(1, 12, value=settings.k, step=1, label="Passages", elem_id="qa-k")
                    rerank = gr.Checkbox(
                        value=bool(getattr(settings, "rerank", False)),
                        label="Rerank passages",
                        interactive=hasattr(settings, "rerank"),
                        info=None if hasattr(settings, "rerank") else "Not available in this build.",
                        elem_id="qa-rerank",
                    )
                with gr.Accordion("Articles", open=False, elem_id="qa-articles"):
                    lib_query = gr.Textbox(
                        placeholder="Search id, title, outlet, date…",
                        show_label=False,
                        elem_id="qa-lib-search",
                    )
                    library = gr.HTML("", elem_id="qa-library")
                    with gr.Row():
                        remove_pick = gr.Dropdown(
                            choices=[], label="Remove an uploaded file", elem_id="qa-remove-pick", scale=4
                        )
                        remove_btn = gr.Button(
                            "Remove", variant="stop", elem_id="qa-remove", scale=1, min_width=80
                        )
                    remove_report = gr.HTML("", elem_id="qa-remove-report")
                with gr.Accordion("Add articles", open=False, elem_id="qa-upload-box"):
                    files = gr.File(
                        label="Upload .txt, .md, .html or .jsonl",
                        file_count="multiple",
                        file_types=UPLOAD_TYPES,
                        elem_id="qa-upload",
                        height=120,
                    )
                    report = gr.HTML("", elem_id="qa-upload-report")
        timer = gr.Timer(2.0)

        outputs = [chatbot, sources, question, turns_state, saved]
        options = [outlet, since, until, k, rerank]
        busy = (gr.update(visible=False), gr.update(visible=True))
        idle = (gr.update(visible=True), gr.update(visible=False))
        for trigger, name, visibility in ((question.submit, "ask", vis), (send.click, None, "private")):
            trigger(lambda: busy, None, [send, stop_btn], queue=False, api_visibility="private").then(
                respond, [question, turns_state, *options], outputs, api_name=name, api_visibility=visibility
            ).then(lambda: idle, None, [send, stop_btn], queue=False, api_visibility="private")
        chatbot.retry(lambda: busy, None, [send, stop_btn], queue=False, api_visibility="private").then(
            regenerate, [turns_state, *options], outputs, api_name="regenerate", api_visibility=vis
        ).then(lambda: idle, None, [send, stop_btn], queue=False, api_visibility="private")
        stop_btn.click(stop, None, None, queue=False, api_name="stop", api_visibility=vis)
        cleared = [chatbot, sources, turns_state, saved]
        clear_btn.click(clear, None, cleared, api_name="clear", queue=False, api_visibility=vis)
        chatbot.clear(clear, None, cleared, queue=False, api_visibility="private")
        files.upload(upload, files, [report, status, files], api_name="upload", api_visibility=vis)
        lib_query.change(
            lambda q: render_library(state.library(), q or ""),
            lib_query,
            library,
            queue=False,
            api_visibility="private",
            show_progress="hidden",
        )
        remove_btn.click(
            remove,
            [remove_pick, lib_query],
            [remove_report, status, library, remove_pick, outlet],
            api_name="remove_upload",
            api_visibility=vis,
        )
        timer.tick(
            tick,
            [seen_generation, lib_query],
            [status, library, remove_pick, outlet, seen_generation],
            queue=False,
            show_progress="hidden",
            api_visibility="private",
        )
        app.load(restore, [saved], [chatbot, sources, turns_state], queue=False, api_visibility="private")
        app.load(
            tick,
            [seen_generation, lib_query],
            [status, library, remove_pick, outlet, seen_generation],
            queue=False,
            api_visibility="private",
        )
        app.unload(stop)

    app.queue(default_concurrency_limit=concurrency, max_size=64)
    app.qa_state = state  # type: ignore[attr-defined]  # for tests and callers that want to wait for the index
    app.qa_runs = runs  # type: ignore[attr-defined]
    return app


def _turn(
    question: str, answer_text: str, user: str, bot: str, turn_id: str | None = None, panel: str | None = None
) -> dict[str, Any]:
    return {
        "id": turn_id or uuid.uuid4().hex[:8],
        "question": question,
        "answer_text": answer_text,
        "user": user,
        "bot": bot,
        "panel": panel,
    }


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "api"


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
) -> Any:
    """Serve the app on ``host:port``; never a public share link, and Gradio's own banner is silenced.

    With ``auth`` (user, password) every page and route needs a login, and wrong passwords are
    answered more and more slowly (:class:`~qa.ui.state.LoginThrottle`).
    """
    result = app.launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=LoginThrottle(*auth) if auth else None,
        prevent_thread_lock=True,
        show_error=False,
        footer_links=[],
        quiet=True,
        **LAUNCH_STYLE,
    )
    print(f"qa chat: {app.local_url}  (Ctrl+C to stop)", flush=True)  # noqa: T201
    if not prevent_thread_lock:
        app.block_thread()
    return result


def wait_until_ready(app: gr.Blocks, timeout: float = 600.0) -> bool:
    """Block until the startup index build finished (for scripts and tests)."""
    state: IndexState = app.qa_state  # type: ignore[attr-defined]
    return state.ready.wait(timeout)

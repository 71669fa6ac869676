"""The chat UI: a thin Gradio shell over ``ask_stream``, ``build_index`` and ``add_articles``.

It turns the core's event stream into screen updates and holds no pipeline logic. Every piece of
article text and model output is passed through ``html.escape`` before it is composed into HTML, so
an article containing ``<script>`` shows that text and runs nothing.

    from qa.ui import build_app, launch
    launch(build_app(), host="127.0.0.1", port=7860)
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from qa.config import Settings  # noqa: E402
from qa.errors import IngestError, QAError, QuestionError  # noqa: E402
from qa.types import Answer, Citation, Delta, Final, IndexStats, Passage, Sources  # noqa: E402

log = logging.getLogger(__name__)

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".jsonl"]
EXAMPLES = [
    "Why did Blinken and Mayorkas travel to Mexico?",
    "How many migrants were in the caravan heading north?",
    "What did López Obrador ask the United States for in return?",
]
EXTRACTIVE_NOTICE = (
    "The language model was unavailable; these sentences are quoted directly from the articles."
)
CONTEXT_CHARS = 280  # characters of article text shown either side of a cited span
HISTORY_TURNS = 6  # earlier turns passed to ask_stream for follow-ups
INDEX_WAIT_S = 600.0  # how long a question waits for the startup build before giving up

AskStream = Callable[..., Iterator[Any]]


# --------------------------------------------------------------------------------------------------
# Rendering: pure functions from records to escaped HTML
# --------------------------------------------------------------------------------------------------


def esc(text: object) -> str:
    """Escape text for HTML, quotes included; ``None`` becomes the empty string."""
    return html.escape("" if text is None else str(text), quote=True)


_MARKER = re.compile(r"\[(\d{1,3})\]")


def _with_markers(escaped: str) -> str:
    """Style the inline [n] markers of already escaped answer text."""
    return _MARKER.sub(r'<span class="qa-marker">[\1]</span>', escaped)


def _lines(escaped: str) -> str:
    # The Chatbot renders markdown; a blank line would end our HTML block, so keep one line.
    return escaped.replace("\r", "").replace("\n", "<br>")


def _meta(source: str | None, published_at: str | None) -> str:
    parts = [esc(p) for p in (source, (published_at or "")[:10]) if p]
    return " · ".join(parts)


def _safe_url(url: str | None) -> str | None:
    if url and re.match(r"^https?://", url, flags=re.IGNORECASE):
        return esc(url)
    return None


def _title(title: str | None, limit: int = 110) -> str:
    """A title cut at a word boundary (untitled articles use their first sentence), escaped."""
    text = " ".join((title or "Untitled").split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return esc(text)


def badge(label: str, kind: str) -> str:
    return f'<span class="qa-badge qa-badge-{kind}">{esc(label)}</span>'


def render_user(question: str) -> str:
    return f'<div class="qa-question">{_lines(esc(question))}</div>'


def render_pending(message: str) -> str:
    return f'<div class="qa-answer qa-pending"><span class="qa-spinner"></span>{esc(message)}</div>'


def render_streaming(text: str) -> str:
    return f'<div class="qa-answer qa-streaming">{_lines(_with_markers(esc(text)))}<span class="qa-caret"></span></div>'


def render_error(message: str) -> str:
    return (
        f'<div class="qa-answer qa-error">{badge("Could not answer", "error")} {_lines(esc(message))}</div>'
    )


def render_answer(answer: Answer) -> str:
    """The final, verified answer as shown in the chat: badges, text with markers, cited titles."""
    classes = ["qa-answer"]
    badges = []
    if not answer.answerable:
        classes.append("qa-abstain")
        badges.append(badge("Not in the articles", "muted"))
    if answer.conflict:
        badges.append(badge("Sources disagree", "warn"))
    if answer.extractive:
        badges.append(badge("Quoted from the articles", "info"))
    text = answer.text.strip() or "The articles do not say."
    parts = [f'<div class="{" ".join(classes)}">']
    if badges:
        parts.append(f'<div class="qa-badges">{"".join(badges)}</div>')
    parts.append(f'<div class="qa-text">{_lines(_with_markers(esc(text)))}</div>')
    notice = answer.notice or (EXTRACTIVE_NOTICE if answer.extractive else None)
    if notice:
        parts.append(f'<div class="qa-notice">{_lines(esc(notice))}</div>')
    if answer.citations:
        items = "".join(
            f'<li><span class="qa-marker">[{c.marker}]</span> {_title(c.title, 90)}'
            f'<span class="qa-meta"> — {_meta(c.source, c.published_at)}</span></li>'
            for c in _unique_citations(answer.citations)
        )
        parts.append(f'<ul class="qa-cite-list">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


def _unique_citations(citations: Sequence[Citation]) -> list[Citation]:
    seen: set[int] = set()
    out = []
    for c in sorted(citations, key=lambda c: c.marker):
        if c.marker not in seen:
            seen.add(c.marker)
            out.append(c)
    return out


def render_sources(passages: Sequence[Passage], *, heading: str = "Retrieved passages") -> str:
    """Cards for the passages retrieval found: title, outlet, date, passage text."""
    if not passages:
        return (
            f'<div class="qa-panel-title">{esc(heading)}</div><div class="qa-empty">No passages found.</div>'
        )
    cards = []
    for i, p in enumerate(passages, 1):
        link = _safe_url(p.url)
        title = _title(p.title)
        if link:
            title = f'<a href="{link}" target="_blank" rel="noopener noreferrer">{title}</a>'
        cards.append(
            '<div class="qa-source">'
            f'<div class="qa-source-head"><span class="qa-num">{i}</span><span class="qa-source-title">{title}</span></div>'
            f'<div class="qa-meta">{_meta(p.source, p.published_at)}</div>'
            f'<div class="qa-passage">{_lines(esc(p.text))}</div>'
            "</div>"
        )
    return f'<div class="qa-panel-title">{esc(heading)} ({len(passages)})</div>' + "".join(cards)


def citation_context(text: str, start: int, end: int, quote: str, width: int = CONTEXT_CHARS) -> str:
    """The cited span highlighted with <mark>, with some surrounding text, all escaped."""
    if text[start:end] != quote:  # offsets should always hold; fall back to a search, then to the quote
        found = text.find(quote) if quote else -1
        if found < 0:
            return f"<mark>{esc(quote)}</mark>"
        start, end = found, found + len(quote)
    lo, hi = max(0, start - width), min(len(text), end + width)
    # Snap the context to word boundaries so it does not start or end mid-word.
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    before = ("…" if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return f"{_lines(esc(before))}<mark>{_lines(esc(text[start:end]))}</mark>{_lines(esc(after))}"


def render_citations(answer: Answer, get_article: Callable[[str], Any] | None = None) -> str:
    """One expandable <details> per citation showing the passage with the quoted span highlighted."""
    if not answer.citations:
        return ""
    items = []
    for c in sorted(answer.citations, key=lambda c: (c.marker, c.start)):
        article = None
        if get_article is not None:
            try:
                article = get_article(c.article_id)
            except Exception:  # the article may have left the index since; show the quote alone
                log.debug("get_article(%s) failed", c.article_id, exc_info=True)
        body = (
            citation_context(article.text, c.start, c.end, c.quote)
            if article is not None
            else f"<mark>{_lines(esc(c.quote))}</mark>"
        )
        link = _safe_url(getattr(article, "url", None))
        link_html = (
            f'<a class="qa-open" href="{link}" target="_blank" rel="noopener noreferrer">Open article ↗</a>'
            if link
            else ""
        )
        items.append(
            f'<details class="qa-cite" data-marker="{c.marker}">'
            f'<summary><span class="qa-marker">[{c.marker}]</span> <span class="qa-cite-title">{_title(c.title)}</span>'
            f'<span class="qa-meta"> — {_meta(c.source, c.published_at)}</span></summary>'
            f'<blockquote class="qa-context">{body}</blockquote>{link_html}</details>'
        )
    return '<div class="qa-panel-title">Citations</div>' + "".join(items)


def render_answer_panel(answer: Answer, get_article: Callable[[str], Any] | None = None) -> str:
    panel = render_citations(answer, get_article)
    if answer.conflict:
        panel = (
            '<div class="qa-callout qa-callout-warn">'
            f"{badge('Sources disagree', 'warn')} The articles give different accounts; compare the citations."
            "</div>" + panel
        )
    return panel + render_sources(answer.passages)


SOURCES_PLACEHOLDER = (
    '<div class="qa-panel-title">Sources</div>'
    '<div class="qa-empty">Ask a question: the passages the answer is drawn from appear here, '
    "and each citation opens to the exact quoted words.</div>"
)


# --------------------------------------------------------------------------------------------------
# Index state: the startup build runs in a background thread; uploads share its lock
# --------------------------------------------------------------------------------------------------


@dataclass
class IndexState:
    """What the status bar shows, and a lock that serialises every write to the index."""

    settings: Settings
    phase: str = "starting"  # starting | indexing | ready | error
    progress: float | None = None
    detail: str = ""
    stats: IndexStats | None = None
    error: str | None = None
    model: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def uploads_dir(self) -> Path:
        """Uploaded files live beside the index, never in the articles folder."""
        return Path(self.settings.index_dir).parent / "uploads"

    def on_progress(self, *args: Any, **kwargs: Any) -> None:
        """Accepts (done, total[, desc]), (fraction[, desc]) or (desc) from the indexer."""
        numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        texts = [a for a in args if isinstance(a, str)] + [v for v in kwargs.values() if isinstance(v, str)]
        if len(numbers) >= 2 and numbers[1]:
            self.progress = max(0.0, min(1.0, numbers[0] / numbers[1]))
        elif len(numbers) == 1 and 0 <= numbers[0] <= 1:
            self.progress = float(numbers[0])
        if texts:
            self.detail = texts[0]

    def start(self, build: bool = True) -> None:
        threading.Thread(target=self._startup, args=(build,), name="qa-index-build", daemon=True).start()

    def _startup(self, build: bool) -> None:
        try:
            self.model = _describe_model(self.settings)
        except Exception as exc:  # the status bar must not die because the model cannot be described
            self.model = f"unavailable ({exc})"
        if not build:
            self.stats = _index_stats(self.settings)
            self.phase = "ready"
            self.ready.set()
            return
        from qa.index import build_index

        with self.lock:
            self.phase = "indexing"
            try:
                uploads = sorted(p for p in self.uploads_dir.glob("*") if p.is_file())
                paths = [self.settings.articles_dir, *uploads] if uploads else None
                self.stats = build_index(
                    paths, settings=self.settings, progress=False, progress_callback=self.on_progress
                )
                self.phase = "ready"
            except Exception as exc:
                log.exception("index build failed")
                self.phase, self.error = "error", str(exc)
            finally:
                self.progress = None
                self.ready.set()


def _describe_model(settings: Settings) -> str:
    from qa.llm import describe

    return describe(settings)


def _index_stats(settings: Settings) -> IndexStats | None:
    """Article and chunk counts from the live index's manifest, without opening the index."""
    from qa import store

    try:
        manifest = json.loads((store.live_dir(Path(settings.index_dir)) / store.MANIFEST).read_text("utf-8"))
        return IndexStats(int(manifest["articles"]), int(manifest["chunks"]), 0, 0, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def render_status(state: IndexState) -> str:
    model = esc(state.model or "loading…")
    if state.phase in ("starting", "indexing"):
        pct = f" {state.progress:.0%}" if state.progress is not None else ""
        detail = f" — {esc(state.detail)}" if state.detail else ""
        index = f'<span class="qa-dot qa-dot-busy"></span>indexing…{pct}{detail}'
    elif state.phase == "error":
        index = f'<span class="qa-dot qa-dot-error"></span>index unavailable: {esc(state.error)}'
    elif state.stats is not None:
        index = (
            f'<span class="qa-dot qa-dot-ok"></span>{state.stats.articles:,} articles · '
            f"{state.stats.chunks:,} chunks"
        )
    else:
        index = '<span class="qa-dot qa-dot-ok"></span>ready'
    return (
        f'<div class="qa-status"><span class="qa-status-item"><b>Model</b> {model}</span>'
        f'<span class="qa-status-item"><b>Index</b> {index}</span></div>'
    )


# --------------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------------

HEADER = """
<div class="qa-header">
  <div class="qa-logo">qa</div>
  <div>
    <div class="qa-title">Ask the news</div>
    <div class="qa-subtitle">Answers drawn only from your articles, every claim cited word for word. Runs entirely on this machine.</div>
  </div>
</div>
"""

# System fonts only: the app is local and must not fetch anything from the internet.
THEME = gr.themes.Soft(
    primary_hue="indigo",
    neutral_hue="slate",
    font=["Inter", "ui-sans-serif", "system-ui", "Segoe UI", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "monospace"],
)

CSS = """
.gradio-container { max-width: 1320px !important; margin: 0 auto !important; }
footer { display: none !important; }
.qa-header { display: flex; gap: 14px; align-items: center; padding: 6px 2px 2px; }
.qa-logo { width: 44px; height: 44px; border-radius: 12px; background: linear-gradient(135deg,#4f46e5,#0ea5e9);
  color: #fff; font-weight: 800; font-size: 20px; display: flex; align-items: center; justify-content: center; }
.qa-title { font-size: 22px; font-weight: 700; }
.qa-subtitle { color: var(--body-text-color-subdued); font-size: 14px; }
.qa-status { display: flex; flex-wrap: wrap; gap: 18px; font-size: 13px; color: var(--body-text-color-subdued);
  padding: 6px 12px; border: 1px solid var(--border-color-primary); border-radius: 10px; background: var(--block-background-fill); }
.qa-status b { color: var(--body-text-color); font-weight: 600; margin-right: 4px; }
.qa-dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; vertical-align: middle; }
.qa-dot-ok { background: #22c55e; } .qa-dot-error { background: #ef4444; }
.qa-dot-busy { background: #f59e0b; animation: qa-pulse 1s infinite alternate; }
@keyframes qa-pulse { from { opacity: .35; } to { opacity: 1; } }
.qa-marker { color: #4f46e5; font-weight: 600; font-size: .85em; }
.qa-badges { margin-bottom: 6px; }
.qa-badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 999px; margin-right: 6px; }
.qa-badge-warn { background: #fef3c7; color: #92400e; border: 1px solid #f59e0b; }
.qa-badge-muted { background: #e2e8f0; color: #475569; border: 1px solid #cbd5e1; }
.qa-badge-info { background: #e0f2fe; color: #075985; border: 1px solid #7dd3fc; }
.qa-badge-error { background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; }
.qa-abstain .qa-text { color: var(--body-text-color-subdued); font-style: italic; }
.qa-notice { margin-top: 6px; font-size: 13px; color: #075985; }
.qa-error { color: #991b1b; }
.qa-pending { color: var(--body-text-color-subdued); }
.qa-spinner { display: inline-block; width: 10px; height: 10px; margin-right: 8px; border-radius: 50%;
  border: 2px solid #a5b4fc; border-top-color: #4f46e5; animation: qa-spin .8s linear infinite; }
@keyframes qa-spin { to { transform: rotate(360deg); } }
.qa-caret { display: inline-block; width: 7px; height: 1em; margin-left: 2px; background: #6366f1; vertical-align: text-bottom;
  animation: qa-pulse .6s infinite alternate; }
.qa-cite-list { margin: 8px 0 0 !important; padding-left: 0 !important; list-style: none; font-size: 13px; }
.qa-cite-list li { margin: 2px 0; }
.qa-meta { color: var(--body-text-color-subdued); font-size: 12px; }
#qa-sources { overflow-y: auto; }
.qa-panel-title { font-weight: 700; font-size: 13px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--body-text-color-subdued); margin: 6px 0 8px; }
.qa-empty { color: var(--body-text-color-subdued); font-size: 14px; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 8px 10px; margin-bottom: 8px;
  background: var(--background-fill-secondary); }
.qa-source-head { display: flex; gap: 8px; align-items: baseline; font-weight: 600; font-size: 14px; }
.qa-num { flex: none; width: 20px; height: 20px; line-height: 20px; text-align: center; border-radius: 6px;
  background: #e0e7ff; color: #3730a3; font-size: 12px; }
.qa-passage { font-size: 13px; margin-top: 4px; max-height: 8.5em; overflow-y: auto; white-space: normal; }
.qa-cite { border: 1px solid #c7d2fe; border-radius: 10px; padding: 6px 10px; margin-bottom: 8px; background: #eef2ff22; }
.qa-cite summary { cursor: pointer; font-size: 14px; }
.qa-cite-title { font-weight: 600; }
.qa-context { font-size: 13px; margin: 8px 0 4px !important; padding-left: 10px !important; border-left: 3px solid #a5b4fc !important; }
.qa-context mark { background: #fde68a; color: inherit; padding: 0 2px; border-radius: 3px; }
.qa-open { font-size: 12px; }
.qa-callout { border-radius: 10px; padding: 8px 10px; margin-bottom: 8px; font-size: 13px; }
.qa-callout-warn { background: #fffbeb; border: 1px solid #fcd34d; color: #78350f; }
#qa-upload-report { font-size: 13px; }
.qa-up-ok { color: #166534; } .qa-up-bad { color: #991b1b; }
"""

LAUNCH_STYLE: dict[str, Any] = {"theme": THEME, "css": CSS}


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
    ask_stream: AskStream | None = None,
    get_article: Callable[[str], Any] | None = None,
    concurrency: int = 4,
) -> gr.Blocks:
    """The chat app over ``settings`` (default: from the environment).

    The startup index build runs in a background thread, so the page is usable at once; a question
    asked meanwhile waits for the build. ``ask_stream`` and ``get_article`` default to the core's.
    """
    settings = settings or Settings.from_env()
    state = IndexState(settings)
    state.start(build=build_index_on_start)
    _ask = ask_stream
    _get = get_article

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

    def respond(question: str, turns: list[dict[str, str]] | None) -> Iterator[tuple[Any, ...]]:
        """Ask one question; yields (chat messages, sources panel, textbox, conversation state)."""
        turns = list(turns or [])
        question = question or ""
        messages = _messages(turns)
        messages += [
            {"role": "user", "content": render_user(question)},
            {"role": "assistant", "content": render_pending("Searching the articles…")},
        ]
        yield messages, gr.skip(), "", turns
        if not state.ready.is_set():
            messages[-1]["content"] = render_pending("The index is still being built; your question is next…")
            yield messages, gr.skip(), "", turns
            state.ready.wait(INDEX_WAIT_S)
        history = [(t["question"], t["answer_text"]) for t in turns[-HISTORY_TURNS:]]
        streamed = ""
        try:
            for event in ask_fn()(question, history=history or None, settings=settings):
                if isinstance(event, Sources):
                    messages[-1]["content"] = render_pending("Reading the sources…")
                    yield messages, render_sources(event.passages), "", turns
                elif isinstance(event, Delta):
                    streamed += event.text
                    messages[-1]["content"] = render_streaming(streamed)
                    yield messages, gr.skip(), "", turns
                elif isinstance(event, Final):
                    answer = event.answer
                    content = render_answer(answer)
                    messages[-1]["content"] = content
                    turns = [
                        *turns,
                        {
                            "question": question,
                            "answer_text": answer.text,
                            "user": render_user(question),
                            "bot": content,
                        },
                    ]
                    yield messages, render_answer_panel(answer, get_fn()), "", turns
        except QuestionError as exc:
            messages[-1]["content"] = render_error(str(exc))
            yield messages, gr.skip(), question, turns
        except QAError as exc:
            messages[-1]["content"] = render_error(str(exc))
            yield messages, gr.skip(), question, turns
        except Exception:
            log.exception("answering failed")
            messages[-1]["content"] = render_error("Something went wrong while answering. Please try again.")
            yield messages, gr.skip(), question, turns

    def clear() -> tuple[Any, ...]:
        return [], SOURCES_PLACEHOLDER, "", []

    def upload(files: list[str] | str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008  (Gradio injects it)
        """Validate each file, store the good ones in uploads/, add them to the index."""
        if not files:
            return gr.skip(), render_status(state), gr.skip()
        files = [files] if isinstance(files, str) else list(files)
        lines: list[str] = []
        good: list[tuple[str, Path, int]] = []
        state.uploads_dir.mkdir(parents=True, exist_ok=True)
        for path in files:
            name = Path(path).name
            try:
                data = Path(path).read_bytes()
                articles = _parse_bytes(name, data)
                if not articles:
                    raise IngestError("no article text found in it")
            except IngestError as exc:
                lines.append(f'<div class="qa-up-bad">✗ <b>{esc(name)}</b> — {esc(exc)}</div>')
                continue
            except OSError as exc:
                lines.append(
                    f'<div class="qa-up-bad">✗ <b>{esc(name)}</b> — could not read it ({esc(exc)})</div>'
                )
                continue
            good.append((name, _store_upload(state.uploads_dir, name, data), len(articles)))
        if good:
            state.ready.wait(INDEX_WAIT_S)
            progress(0, desc="Indexing…")

            def on_progress(*args: Any, **kwargs: Any) -> None:
                state.on_progress(*args, **kwargs)
                if state.progress is not None:
                    progress(state.progress, desc="Indexing…")

            from qa.index import add_articles

            with state.lock:
                try:
                    stats = add_articles(
                        [p for _, p, _ in good], settings=settings, progress_callback=on_progress
                    )
                    state.stats = _index_stats(settings) or stats
                    for name, _, n in good:
                        what = f"{n} articles" if n > 1 else "1 article"
                        lines.append(
                            f'<div class="qa-up-ok">✓ <b>{esc(name)}</b> — {what} added, searchable now</div>'
                        )
                except QAError as exc:
                    for name, _, _ in good:
                        lines.append(f'<div class="qa-up-bad">✗ <b>{esc(name)}</b> — {esc(exc)}</div>')
                finally:
                    state.progress = None
        return "".join(lines), render_status(state), None

    with gr.Blocks(title="qa — Ask the news", analytics_enabled=False) as app:
        gr.HTML(HEADER)
        status = gr.HTML(render_status(state), elem_id="qa-status")
        turns_state = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=7):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat",
                    show_label=False,
                    height=560,
                    sanitize_html=True,
                    render_markdown=True,
                    feedback_options=None,
                    buttons=["copy_all"],
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
                    clear_btn = gr.Button(
                        "Clear", variant="secondary", scale=1, min_width=80, elem_id="qa-clear"
                    )
                gr.Examples(EXAMPLES, inputs=question, label="Try")
            with gr.Column(scale=5):
                sources = gr.HTML(
                    SOURCES_PLACEHOLDER, elem_id="qa-sources", container=True, padding=True, max_height=640
                )
                with gr.Accordion("Add articles", open=False, elem_id="qa-upload-box"):
                    files = gr.File(
                        label="Upload .txt, .md, .html or .jsonl",
                        file_count="multiple",
                        file_types=UPLOAD_TYPES,
                        elem_id="qa-upload",
                        height=120,
                    )
                    report = gr.HTML("", elem_id="qa-upload-report")
        timer = gr.Timer(1.0)

        outputs = [chatbot, sources, question, turns_state]
        question.submit(respond, [question, turns_state], outputs, api_name="ask")
        send.click(respond, [question, turns_state], outputs, api_name=False)
        clear_btn.click(clear, None, outputs, api_name="clear", queue=False)
        chatbot.clear(clear, None, outputs, api_name=False, queue=False)  # the chat's own trash button
        files.upload(upload, files, [report, status, files], api_name="upload")

        def tick() -> tuple[Any, ...]:
            done = state.ready.is_set() and state.model is not None
            return render_status(state), gr.Timer(active=not done)

        timer.tick(tick, None, [status, timer], api_name=False, queue=False, show_progress="hidden")
        app.load(lambda: render_status(state), None, status, api_name=False, queue=False)

    app.queue(default_concurrency_limit=concurrency, max_size=64)
    app.qa_state = state  # type: ignore[attr-defined]  # for tests and callers that want to wait for the index
    return app


def _messages(turns: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for t in turns:
        out += [{"role": "user", "content": t["user"]}, {"role": "assistant", "content": t["bot"]}]
    return out


def _parse_bytes(name: str, data: bytes) -> list[Any]:
    from qa.ingest import parse_bytes

    return parse_bytes(name, data)


def _store_upload(folder: Path, name: str, data: bytes) -> Path:
    """Save an upload under its own name, or a content-suffixed one if another file has that name."""
    safe = re.sub(r"[^\w.\- ]+", "_", name).strip(" .") or "upload.txt"
    target = folder / safe
    if target.exists() and target.read_bytes() != data:
        digest = hashlib.sha256(data).hexdigest()[:10]
        target = folder / f"{target.stem}-{digest}{target.suffix}"
    if not target.exists():
        target.write_bytes(data)
    return target


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` → ("user", "pass"); empty → None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError('QA_AUTH must look like "user:password"')
    return user, password


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
) -> Any:
    """Serve the app; binds the loopback address and never shares unless asked."""
    return app.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        prevent_thread_lock=prevent_thread_lock,
        show_error=False,
        footer_links=[],
        **LAUNCH_STYLE,
    )


def wait_until_ready(app: gr.Blocks, timeout: float = 600.0) -> bool:
    """Block until the startup index build finished (for scripts and tests)."""
    deadline = time.monotonic() + timeout
    state: IndexState = app.qa_state  # type: ignore[attr-defined]
    return state.ready.wait(max(0.0, deadline - time.monotonic()))

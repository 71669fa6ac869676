"""HTML for the chat: pure functions from the core's records to escaped HTML.

Every piece of article text and model output goes through :func:`esc` before it is composed into
HTML, so an article containing ``<script>`` shows that text and runs nothing. Gradio's sanitiser
drops ``data-*`` attributes, so links between an inline marker and its citation use element ids
(``qa-c-<turn>-<n>`` in the chat, ``qa-p-<turn>-<n>`` in the side panel) and the page script in
:mod:`qa.ui.assets` follows them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from qa.types import Answer, Citation, Passage

EXTRACTIVE_NOTICE = (
    "The language model was unavailable; these sentences are quoted directly from the articles."
)
CONTEXT_CHARS = 280  # characters of article text shown either side of a cited span
TITLE_QUOTE_CHARS = 300  # longest quote shown when hovering a marker

GetArticle = Callable[[str], Any]


def esc(text: object) -> str:
    """Escape text for HTML, quotes included; ``None`` becomes the empty string."""
    return html.escape("" if text is None else str(text), quote=True)


_MARKER = re.compile(r"\[(\d{1,3})\]")


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
    """A title cut at a word boundary, escaped."""
    text = " ".join((title or "Untitled").split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return esc(text)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def cite_id(turn: str, marker: int, *, panel: bool = False) -> str:
    """The element id of one citation: in the chat message, or in the side panel."""
    return f"qa-{'p' if panel else 'c'}-{turn}-{marker}"


def badge(label: str, kind: str) -> str:
    return f'<span class="qa-badge qa-badge-{kind}">{esc(label)}</span>'


def passage_label(i: int) -> str:
    """Passages are lettered (A, B, …, then P27…), so they never look like citation markers [n]."""
    return chr(ord("A") + i) if i < 26 else f"P{i + 1}"


# --------------------------------------------------------------------------------------------------
# Messages


def render_user(question: str, limit: int | None = None) -> str:
    shown = question
    if limit is not None and len(question) > limit:
        shown = f"{question[:limit]}… ({len(question):,} characters)"
    return f'<div class="qa-question">{_lines(esc(shown))}</div>'


def _markers(escaped: str, turn: str | None, citations: Sequence[Citation]) -> str:
    """Turn the inline [n] of already escaped answer text into links to their citations.

    Hovering a marker shows its quote (``title``); clicking it opens the citation in its message.
    Markers without a citation (drafts) are styled but link nowhere.
    """
    by_marker = {c.marker: c for c in sorted(citations, key=lambda c: (c.marker, c.start))}

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        c = by_marker.get(n)
        if c is None or turn is None:
            return f'<span class="qa-marker">[{n}]</span>'
        hover = f"“{_clip(c.quote, TITLE_QUOTE_CHARS)}” — {' '.join((c.title or '').split())}"
        if c.source:
            hover += f", {c.source}"
        return (
            f'<a class="qa-marker qa-link" href="#{cite_id(turn, n)}" title="{esc(hover)}" '
            f'aria-label="Open citation {n}">[{n}]</a>'
        )

    return _MARKER.sub(link, escaped)


def render_stages(stages: Sequence[tuple[str, bool]], elapsed: float | None = None) -> str:
    """The answer's progress so far: finished stages ticked, the current one with a spinner."""
    items = []
    for i, (text, done) in enumerate(stages):
        last = i == len(stages) - 1
        clock = f' <span class="qa-elapsed">{elapsed:.0f} s</span>' if last and elapsed is not None else ""
        if done:
            items.append(f'<li class="qa-stage qa-stage-done">✓ {esc(text)}{clock}</li>')
        else:
            items.append(
                f'<li class="qa-stage qa-stage-now"><span class="qa-spinner"></span>{esc(text)}{clock}</li>'
            )
    return f'<ul class="qa-stages">{"".join(items)}</ul>'


def render_pending(
    message: str, stages: Sequence[tuple[str, bool]] = (), elapsed: float | None = None
) -> str:
    """A message while the answer is being prepared: the stages, or a single spinner line."""
    body = render_stages(stages or [(message, False)], elapsed)
    return f'<div class="qa-answer qa-pending">{body}</div>'


def render_streaming(text: str, stages: Sequence[tuple[str, bool]] = (), elapsed: float | None = None) -> str:
    """The model's text as it arrives, marked as an unchecked draft."""
    head = badge("Draft — not yet checked against the articles", "draft")
    tail = render_stages(stages, elapsed) if stages else ""
    return (
        f'<div class="qa-answer qa-streaming qa-draft"><div class="qa-badges">{head}</div>'
        f'<div class="qa-draft-text">{_lines(_markers(esc(text), None, ()))}<span class="qa-caret"></span></div>'
        f"{tail}</div>"
    )


def render_error(message: str) -> str:
    return (
        f'<div class="qa-answer qa-error">{badge("Could not answer", "error")} {_lines(esc(message))}</div>'
    )


def render_stopped(draft: str) -> str:
    """What stays in the chat when the user stopped an answer: the unchecked draft, struck through."""
    body = (
        f'<div class="qa-draft-text qa-struck">{_lines(esc(draft))}</div>'
        '<div class="qa-notice">This draft was not checked and cites nothing.</div>'
        if draft.strip()
        else ""
    )
    return f'<div class="qa-answer qa-stopped">{badge("Stopped", "muted")} Answer stopped.{body}</div>'


def normalise(text: str) -> str:
    """Answer text compared without markers, spacing or case (for draft versus final)."""
    return " ".join(re.sub(r"\s*\[\d{1,3}\]", "", text).split()).casefold()


def render_answer(
    answer: Answer,
    turn: str | None = None,
    get_article: GetArticle | None = None,
    *,
    draft: str | None = None,
) -> str:
    """The verified answer: badges, text whose markers open citations, the citations, a copy button.

    When ``draft`` (the streamed text) says something else than the verified answer, a note says
    so and keeps the draft readable: the answer is never silently swapped.
    """
    classes = ["qa-answer", "qa-final"]
    badges = []
    if not answer.answerable:
        classes.append("qa-abstain")
        badges.append(badge("Not in the articles", "muted"))
    if answer.conflict:
        badges.append(badge("Sources disagree", "warn"))
    if answer.extractive:
        badges.append(badge("Quoted from the articles", "info"))
    if answer.citations:
        badges.append(badge("Citations checked", "ok"))
    text = answer.text.strip() or "The articles do not say."
    parts = [f'<div class="{" ".join(classes)}">']
    if badges:
        parts.append(f'<div class="qa-badges">{"".join(badges)}</div>')
    parts.append(f'<div class="qa-text">{_lines(_markers(esc(text), turn, answer.citations))}</div>')
    notice = answer.notice or (EXTRACTIVE_NOTICE if answer.extractive else None)
    if notice:
        parts.append(f'<div class="qa-notice">{_lines(esc(notice))}</div>')
    if draft is not None and draft.strip() and normalise(draft) != normalise(answer.text):
        parts.append(
            '<div class="qa-changed">The checked answer differs from the draft shown while it was written. '
            f'<details class="qa-old-draft"><summary>Show the draft</summary><del>{_lines(esc(draft))}</del></details></div>'
        )
    if answer.citations:
        parts.append(f'<div class="qa-cites">{render_citation_items(answer, get_article, turn)}</div>')
    parts.append(
        '<div class="qa-actions"><button class="qa-copy" type="button" title="Copy the answer and its sources">'
        "Copy</button></div>"
    )
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# Citations and passages


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


def _articles(citations: Sequence[Citation], get_article: GetArticle | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if get_article is None:
        return out
    for aid in dict.fromkeys(c.article_id for c in citations):
        try:
            out[aid] = get_article(aid)
        except Exception:  # the article may have left the index since; show the quote alone
            out[aid] = None
    return out


def render_citation_items(
    answer: Answer, get_article: GetArticle | None = None, turn: str | None = None, *, panel: bool = False
) -> str:
    """One expandable <details> per citation: the quote highlighted in its article's context."""
    articles = _articles(answer.citations, get_article)
    items = []
    seen: set[int] = set()
    for c in sorted(answer.citations, key=lambda c: (c.marker, c.start)):
        article = articles.get(c.article_id)
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
        ident = f' id="{cite_id(turn, c.marker, panel=panel)}"' if turn and c.marker not in seen else ""
        seen.add(c.marker)
        items.append(
            f'<details class="qa-cite"{ident}>'
            f'<summary><span class="qa-marker">[{c.marker}]</span> <span class="qa-cite-title">{_title(c.title)}</span>'
            f'<span class="qa-meta"> — {_meta(c.source, c.published_at)}</span></summary>'
            f'<blockquote class="qa-context">{body}</blockquote>{link_html}</details>'
        )
    return "".join(items)


def render_sources(passages: Sequence[Passage], *, heading: str = "Retrieved passages") -> str:
    """Cards for the passages retrieval found, lettered A, B, …: title, outlet, date, passage text."""
    if not passages:
        return (
            f'<div class="qa-panel-title">{esc(heading)}</div><div class="qa-empty">No passages found.</div>'
        )
    cards = []
    for i, p in enumerate(passages):
        link = _safe_url(p.url)
        title = _title(p.title)
        if link:
            title = f'<a href="{link}" target="_blank" rel="noopener noreferrer">{title}</a>'
        cards.append(
            '<div class="qa-source">'
            f'<div class="qa-source-head"><span class="qa-num" title="Passage {passage_label(i)}">'
            f"{passage_label(i)}</span>"
            f'<span class="qa-source-title">{title}</span></div>'
            f'<div class="qa-meta qa-source-meta">{_meta(p.source, p.published_at)}</div>'
            f'<div class="qa-passage">{_lines(esc(p.text))}</div>'
            "</div>"
        )
    return f'<div class="qa-panel-title">{esc(heading)} ({len(passages)})</div>' + "".join(cards)


def render_answer_panel(
    answer: Answer, get_article: GetArticle | None = None, turn: str | None = None
) -> str:
    """The side panel after an answer: its citations (numbered like the markers), then the passages."""
    panel = ""
    if answer.citations:
        panel = '<div class="qa-panel-title">Citations</div>' + render_citation_items(
            answer, get_article, turn, panel=True
        )
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
# Articles panel


def render_library(rows: Sequence[Any], query: str = "", limit: int = 200) -> str:
    """The indexed articles as a table (id, title, outlet, date, chunks), filtered by ``query``."""
    words = query.casefold().split()

    def hit(r: Any) -> bool:
        hay = " ".join(str(x or "") for x in (r.id, r.title, r.source, r.published_at, r.upload)).casefold()
        return all(w in hay for w in words)

    shown = [r for r in rows if hit(r)]
    if not rows:
        return '<div class="qa-empty">The index is empty or still being built.</div>'
    if not shown:
        return f'<div class="qa-empty">No article matches “{esc(query)}”.</div>'
    body = "".join(
        "<tr>"
        f'<td class="qa-id" title="{esc(r.id)}">{esc(r.id[:10])}</td>'
        f"<td>{_title(r.title, 80)}{' <span class=qa-tag>uploaded</span>' if r.upload else ''}</td>"
        f"<td>{esc(r.source)}</td><td>{esc((r.published_at or '')[:10])}</td><td>{r.chunks}</td>"
        "</tr>"
        for r in shown[:limit]
    )
    more = (
        f'<div class="qa-empty">… and {len(shown) - limit:,} more: refine the search.</div>'
        if len(shown) > limit
        else ""
    )
    count = f"{len(shown):,} of {len(rows):,}" if words else f"{len(rows):,}"
    return (
        f'<div class="qa-panel-title">Articles ({count})</div><div class="qa-lib-wrap"><table class="qa-lib">'
        "<thead><tr><th>id</th><th>title</th><th>outlet</th><th>date</th><th>chunks</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>{more}"
    )

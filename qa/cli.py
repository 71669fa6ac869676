"""The ``qa`` command line: a thin shell over the library.

Adding a command is one function::

    @cli.command()
    @click.argument("question")
    def ask(question: str) -> None:
        ...

Errors raised on purpose (``QAError``) are printed as ``error: <message>`` with exit code 1
(2 for a bad question, like click's usage errors), never as a traceback.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from qa.config import Settings
from qa.errors import QAError, QuestionError

F = TypeVar("F", bound=Callable[..., Any])


class QAGroup(click.Group):
    """Turns QAError into a one-line message and a non-zero exit code, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QAError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2 if isinstance(exc, QuestionError) else 1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=QAGroup)
@click.version_option(package_name="qa")
def cli() -> None:
    """Answer questions over news articles, with verified verbatim citations. Fully local."""


def index_dir_option(f: F) -> F:
    """``--index-dir``: where the index lives (default: $QA_INDEX_DIR or ./index)."""
    return click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Index folder (default: $QA_INDEX_DIR or the project's index/).",
    )(f)


def filter_options(f: F) -> F:
    """``--source``, ``--since``, ``--until``: the retrieval filters, shared by search and ask."""
    f = click.option("--until", default=None, help="Only articles published on or before this ISO date.")(f)
    f = click.option("--since", default=None, help="Only articles published on or after this ISO date.")(f)
    return click.option("--source", default=None, help="Only this source (case-insensitive).")(f)


def settings_from(index_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with the command's flags on top."""
    return Settings.from_env(index_dir=index_dir, **overrides)


def _progress_bar() -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    """A click progress bar fed by build_index's progress callback (embedding stage only)."""
    state: dict[str, Any] = {"bar": None, "done": 0}

    def callback(done: int, total: int, stage: str) -> None:
        if stage != "embed" or total <= 0:
            return
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=total, label="embedding", file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)

    return callback, close


@cli.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Ignore the existing index and build it again from scratch.")
@index_dir_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def index_cmd(paths: tuple[Path, ...], rebuild: bool, index_dir: Path | None, quiet: bool) -> None:
    """Index the articles under PATHS (default: the project's articles/).

    The index is synced to PATHS: articles that are no longer there are removed, unchanged ones are
    not embedded again. Articles uploaded in the chat are left alone (remove them with `qa remove`).
    """
    from qa.index import build_index

    settings = settings_from(index_dir)
    callback, close = _progress_bar()
    started = time.perf_counter()
    try:
        stats = build_index(
            list(paths) or None,
            settings.index_dir,
            rebuild=rebuild,
            settings=settings,
            progress=False,
            progress_callback=None if quiet else callback,
        )
    finally:
        close()
    elapsed = time.perf_counter() - started
    click.echo(
        f"indexed {stats.articles} article{'s' * (stats.articles != 1)}, {stats.chunks} chunks "
        f"({stats.embedded} embedded, {stats.skipped} skipped, {stats.removed} removed) in {elapsed:.1f} s"
    )
    _prepare_encoder(settings)


@cli.command("remove")
@click.argument("articles", nargs=-1, required=True)
@index_dir_option
def remove_cmd(articles: tuple[str, ...], index_dir: Path | None) -> None:
    """Remove ARTICLES (ids, as `qa list` shows them) from the index, uploads included."""
    from qa.index import remove_articles

    settings = settings_from(index_dir)
    try:
        stats = remove_articles(list(articles), settings.index_dir, settings=settings)
    except KeyError as exc:
        raise QAError(str(exc.args[0])) from None
    click.echo(
        f"removed {stats.removed} article{'s' * (stats.removed != 1)}; "
        f"{stats.articles} article{'s' * (stats.articles != 1)}, {stats.chunks} chunks left"
    )


@cli.command("list")
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def list_cmd(index_dir: Path | None, as_json: bool) -> None:
    """List the indexed articles: id, date, outlet, chunks, origin (articles folder or upload), title."""
    import dataclasses
    import json

    from qa.index import list_articles

    settings = settings_from(index_dir)
    rows = list_articles(settings, index_dir=settings.index_dir)
    if as_json:
        for r in rows:
            click.echo(json.dumps(dataclasses.asdict(r), ensure_ascii=False))
        return
    for r in rows:
        outlet = (r.source[:24] + "…") if len(r.source) > 25 else r.source
        title = (r.title[:60] + "…") if len(r.title) > 61 else r.title
        click.echo(f"{r.id}\t{r.published_at or '-'}\t{outlet}\t{r.chunks}\t{r.origin}\t{title}")
    click.echo(f"{len(rows)} article{'s' * (len(rows) != 1)}", err=True)


def _prepare_encoder(settings: Settings) -> None:
    """Export the query encoder to ONNX once, so later commands need no torch (see qa.embed)."""
    if settings.query_encoder == "torch":
        return
    from qa.embed import export_onnx, get_embedder, onnx_path

    embedder = get_embedder(settings.embedder)
    if onnx_path(embedder.path, settings.cache_dir).is_file():
        return
    click.echo("exporting the query encoder to ONNX (once)…", err=True)
    try:
        export_onnx(embedder, settings.cache_dir)
    except QAError as exc:  # the torch route still works; say why the fast one is not there
        click.secho(f"warning: {exc}", fg="yellow", err=True)


@cli.command("prepare")
@index_dir_option
def prepare_cmd(index_dir: Path | None) -> None:
    """Get everything ready before the first question: model file, query encoder, index.

    `make chat` runs it, so that no question waits for the 1.1 GB model to be joined and verified.
    """
    from qa.index import ensure_index

    settings = settings_from(index_dir)
    started = time.perf_counter()
    if settings.uses_embedded_llm:
        from qa.engine import ensure_local_model

        click.echo("Preparing the model…", err=True)
        model = ensure_local_model(settings, progress=True)
        click.echo(f"model ready: {model}", err=True)
    _prepare_encoder(settings)
    ensure_index(settings)
    click.echo(f"ready in {time.perf_counter() - started:.1f} s", err=True)


@cli.command("search")
@click.argument("question")
@click.option("-k", type=click.IntRange(min=1), default=5, show_default=True, help="Passages to show.")
@filter_options
@index_dir_option
def search_cmd(
    question: str, k: int, source: str | None, since: str | None, until: str | None, index_dir: Path | None
) -> None:
    """Show the passages that best match QUESTION, best first (no language model involved)."""
    from qa.retrieve import check_question, default_retriever

    settings = settings_from(index_dir)
    check_question(question, settings)  # fail fast, before loading anything
    passages = default_retriever(settings).retrieve(question, k, source=source, since=since, until=until)
    if not passages:
        click.echo("no matching passage")
        return
    from qa.metadata import byline

    for n, p in enumerate(passages, start=1):
        by = byline(p.source, p.title, p.published_at)  # outlet and date; no headline twice
        click.secho(f"[{n}] {p.title}", bold=True)
        click.echo(
            f"    {by + '  ' if by else ''}[{p.start}:{p.end}]  score {p.score:.4f}  cosine {p.dense_score:.3f}"
        )
        text = " ".join(p.text.split())
        click.echo(f"    {text[:400]}{'…' if len(text) > 400 else ''}")


@cli.command("ask")
@click.argument("question")
@click.option(
    "-k", type=click.IntRange(min=1), default=None, help="Passages given to the model (default: QA_K or 4)."
)
@filter_options
@click.option(
    "--json", "as_json", is_flag=True, help="Print the final Answer as JSON instead of streaming text."
)
@index_dir_option
def ask_cmd(
    question: str,
    k: int | None,
    source: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    index_dir: Path | None,
) -> None:
    """Answer QUESTION from the articles: show each stage, the model's draft, then the checked answer
    and its citations."""
    import dataclasses
    import json

    from qa.answer import ask_stream
    from qa.retrieve import check_question
    from qa.types import Delta, Final, Sources, Status

    settings = settings_from(index_dir)
    check_question(question, settings)  # fail fast, before preparing anything
    filters = {key: v for key, v in (("source", source), ("since", since), ("until", until)) if v}
    warming = _warm_in_background(settings, quiet=as_json)

    final = None
    draft: list[str] = []
    open_line = [False]  # the draft's line still waits for its newline

    def note(text: str) -> None:
        if not as_json:
            if open_line[0]:
                click.echo()
                open_line[0] = False
            click.secho(text, fg="bright_black", err=True)

    for event in ask_stream(question, k=k, settings=settings, **filters):
        if isinstance(event, Status):
            if event.stage in ("reading", "writing") and warming is not None:
                warming.join()  # the answer request then finds the engine up and its prefix cached
                warming = None
            note(event.message or f"{event.stage}…")
        elif isinstance(event, Sources):
            note(f"found {len(event.passages)} passages")
        elif isinstance(event, Delta) and not as_json:
            if not draft:
                click.secho("draft: ", nl=False, fg="bright_black", bold=True)
            draft.append(event.text)
            open_line[0] = True
            click.secho(event.text, nl=False, fg="bright_black")  # before verification
        elif isinstance(event, Final):
            final = event.answer
    assert final is not None
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(final), ensure_ascii=False, indent=2))
        return
    # The streamed text is the model's draft; the final text is what verification kept, with markers.
    if open_line[0]:
        click.echo()
    if draft and _plain(final.text) != _plain("".join(draft)):
        click.secho("the checked answer differs from the draft:", fg="yellow", err=True)
    click.echo(final.text)
    if final.notice:
        click.secho(final.notice, fg="yellow")
    if final.conflict:
        click.secho("The sources disagree; each version is cited.", fg="yellow")
    from qa.metadata import byline

    for c in final.citations:
        by = byline(c.source, c.title, c.published_at)
        click.echo(f"  [{c.marker}] {c.title}{f' ({by})' if by else ''} [{c.start}:{c.end}]")
        click.secho(f"      “{' '.join(c.quote.split())}”", fg="bright_black")
    t = final.timings
    cached = getattr(t, "cached_tokens", None)
    cached_note = f" ({cached} cached)" if cached else ""
    click.secho(
        f"retrieval {t.retrieval_ms:.0f} ms, {t.prompt_tokens} prompt tokens{cached_note}, "
        f"total {t.total_ms / 1000:.1f} s",
        fg="bright_black",
        err=True,
    )


def _plain(text: str) -> str:
    """Answer text without citation markers and spacing, to compare a draft with the checked answer."""
    import re

    return " ".join(re.sub(r"\s*\[\d+\]", "", text).split())


def _warm_in_background(settings: Settings, *, quiet: bool) -> Any:
    """Start the embedded engine while retrieval runs; the model file is joined first, in the
    foreground with a progress bar, so that it never happens silently inside the question."""
    if not settings.uses_embedded_llm:
        return None
    import threading

    from qa.engine import ensure_local_model, warm
    from qa.errors import ModelFileError

    if not quiet:
        click.secho("Preparing the model…", fg="bright_black", err=True)
    try:
        ensure_local_model(settings, progress=not quiet)
    except ModelFileError:
        return None  # the answer falls back to quoting and says why

    def run() -> None:
        with contextlib.suppress(Exception):  # any fault shows again, handled, in the answer itself
            warm(settings)

    thread = threading.Thread(target=run, name="qa-warm", daemon=True)
    thread.start()
    return thread


@cli.command("eval")
@click.option(
    "--articles",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="A corpus in the common format (folder with articles.jsonl + questions.jsonl), indexed into a temp dir.",
)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Question file (default: eval/questions.jsonl, or the corpus's questions.jsonl).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N questions.")
@click.option(
    "--types", default=None, help="Only these question types, comma-separated (e.g. fact,conflict)."
)
@click.option("--retrieval-only", is_flag=True, help="Score retrieval only; no language model.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report folder (default: out/eval-<timestamp>/).",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when the overall 'contains' score (hit@5 with --retrieval-only) is below this.",
)
@click.option(
    "-k", type=click.IntRange(min=1), default=None, help="Passages given to the model (default: QA_K or 4)."
)
@click.option(
    "--replay",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file of recorded model calls: known prompts are replayed, new ones asked and recorded.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@index_dir_option
def eval_cmd(
    articles: Path | None,
    questions: Path | None,
    limit: int | None,
    types: str | None,
    retrieval_only: bool,
    out: Path | None,
    min_score: float | None,
    k: int | None,
    replay: Path | None,
    quiet: bool,
    index_dir: Path | None,
) -> None:
    """Evaluate retrieval, answers, citations and abstention; write report.json, report.md and a chart.

    Exits 1 when a question failed with an error, or when --min-score is given and not reached.
    """
    from qa.eval import format_table, run

    report = run(
        questions,
        articles,
        limit=limit,
        types=types.split(",") if types else None,
        retrieval_only=retrieval_only,
        out_dir=out,
        settings=settings_from(index_dir),
        progress=not quiet,
        k=k,
        replay=replay,
    )
    click.echo(format_table(report))
    click.echo(f"\nreport: {report.out_dir}/report.md")
    failed = False
    if report.errors:
        click.echo(f"error: {report.errors} question(s) failed; see the report", err=True)
        failed = True
    if min_score is not None:
        score = report.summary["hit@5"] if retrieval_only else report.score
        if score is None or score < min_score:
            shown = "n/a" if score is None else f"{score:.3f}"
            click.echo(f"score {shown} is below --min-score {min_score}", err=True)
            failed = True
    if failed:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``qa`` script."""
    cli.main(args=argv, prog_name="qa")


if __name__ == "__main__":  # pragma: no cover
    main()

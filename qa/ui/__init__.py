"""The chat UI: a thin Gradio shell over ``ask_stream``, the index and uploads.

Modules: :mod:`qa.ui.render` (records → escaped HTML), :mod:`qa.ui.state` (status line, articles,
model warm-up, login throttle), :mod:`qa.ui.assets` (theme, CSS, the page script that opens
citations), :mod:`qa.ui.chat` (the app and its event handlers).

    from qa.ui import build_app, launch
    launch(build_app(), host="127.0.0.1", port=7860)
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's queue summarises every finished event with pandas for a monitoring page qa does not serve
# (and pandas 3 warns about the way it does so); a cache frequency that is never reached skips it.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))

from qa.ui.chat import (  # noqa: E402
    LAUNCH_STYLE,
    UPLOAD_TYPES,
    Runs,
    browser_secret,
    build_app,
    for_storage,
    launch,
    pump,
    remove_upload,
    render_status,
    render_upload_report,
    upload_files,
    valid_turns,
    wait_until_ready,
)
from qa.ui.render import (  # noqa: E402
    SOURCES_PLACEHOLDER,
    citation_context,
    esc,
    normalise,
    passage_label,
    render_answer,
    render_answer_panel,
    render_citation_items,
    render_error,
    render_library,
    render_pending,
    render_sources,
    render_stopped,
    render_streaming,
    render_user,
)
from qa.ui.state import ArticleInfo, IndexState, LoginThrottle, check_date, index_stats, parse_auth  # noqa: E402

__all__ = [
    "LAUNCH_STYLE",
    "SOURCES_PLACEHOLDER",
    "UPLOAD_TYPES",
    "ArticleInfo",
    "IndexState",
    "LoginThrottle",
    "Runs",
    "browser_secret",
    "build_app",
    "check_date",
    "citation_context",
    "esc",
    "for_storage",
    "index_stats",
    "launch",
    "normalise",
    "parse_auth",
    "passage_label",
    "pump",
    "remove_upload",
    "render_upload_report",
    "render_answer",
    "render_answer_panel",
    "render_citation_items",
    "render_error",
    "render_library",
    "render_pending",
    "render_sources",
    "render_status",
    "render_stopped",
    "render_streaming",
    "render_user",
    "upload_files",
    "valid_turns",
    "wait_until_ready",
]

"""Start the chat UI: `python app.py [--host H] [--port P]` → http://127.0.0.1:7860.

Env: QA_HOST, QA_PORT, QA_AUTH="user:pass" (optional login), plus everything qa.config reads
(QA_INDEX_DIR, OPENAI_BASE_URL, QA_MODEL, …). The index is built in the background if missing or
stale, and the model is loaded while the page opens. There is never a public share link.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with your news articles, with verified citations.")
    parser.add_argument(
        "--host", default=os.environ.get("QA_HOST") or "127.0.0.1", help="address to bind (env QA_HOST)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("QA_PORT") or 7860),
        help="port to serve on (env QA_PORT)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from qa.config import Settings
    from qa.ui import build_app, launch, parse_auth

    auth = parse_auth(os.environ.get("QA_AUTH"))
    # With a login, the API is not described to visitors who have not logged in.
    app = build_app(Settings.from_env(), api_visibility="undocumented" if auth else "public")
    launch(app, host=args.host, port=args.port, auth=auth)


if __name__ == "__main__":
    main()

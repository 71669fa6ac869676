"""Start the chat UI: `python app.py [--host H] [--port P] [--share]` → http://127.0.0.1:7860.

Env: QA_HOST, QA_PORT, QA_AUTH="user:pass" (optional login), plus everything qa.config reads
(QA_INDEX_DIR, OPENAI_BASE_URL, QA_MODEL, …). The index is built in the background if missing or stale.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with your news articles, with verified citations.")
    parser.add_argument("--host", default=os.environ.get("QA_HOST") or "127.0.0.1", help="address to bind")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("QA_PORT") or 7860), help="port to serve on"
    )
    parser.add_argument(
        "--share", action="store_true", help="create a public Gradio share link (off by default)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from qa.config import Settings
    from qa.ui import build_app, launch, parse_auth

    auth = parse_auth(os.environ.get("QA_AUTH"))
    app = build_app(Settings.from_env())
    launch(app, host=args.host, port=args.port, share=args.share, auth=auth)


if __name__ == "__main__":
    main()

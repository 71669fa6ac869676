"""The chat in a real headless Chromium: citations you can follow, a conversation that survives a
reload, settings that change the next answer, the articles panel, Stop.

Screenshots of each state go to /tmp/ui-shots/ (outside the repository) for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures_ui import SHOTS, UIServer, scripted_reply, wait_for
from tests.stub_openai import last_user

pytestmark = pytest.mark.browser

ZEPHYR_Q = "How much did the Zephyr Valley council approve for the bridge?"
ASYLUM_Q = "How many asylum seekers set off for the US on Sunday?"
FERRY_Q = "What will the Brightwater ferry fare rise to?"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")


FINAL = "#qa-chat .qa-answer.qa-final"


def final_answers(page, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Wait until the chat holds n verified answers; their texts."""
    done = page.locator(FINAL)
    wait_for(lambda: done.count() >= n, timeout=90)
    return [done.nth(i).locator(".qa-text").inner_text() for i in range(done.count())]


def open_page(page, server: UIServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url)
    page.wait_for_selector("#qa-status .qa-index-ok")


def clear(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#qa-clear").click()
    wait_for(lambda: page.locator("#qa-chat .qa-answer, #qa-chat .qa-question").count() == 0)


def choose(page, dropdown: str, label: str) -> None:  # type: ignore[no-untyped-def]
    """Pick an option of a Gradio dropdown by the start of its label."""
    page.locator(f"{dropdown} input").click()
    page.get_by_test_id("dropdown-option").filter(has_text=label).first.click()
    page.keyboard.press("Escape")


def _standalone(request: dict) -> str:
    """A model that reads the second question as standalone (it does not refer to the first)."""
    prompt = last_user(request)
    if "Standalone question:" in prompt:
        return prompt.rsplit("Final question:", 1)[-1].split("\n")[0].strip()
    return scripted_reply(request)


def test_inline_marker_opens_its_quote_in_every_past_answer(ui_server: UIServer, page) -> None:  # type: ignore[no-untyped-def]
    open_page(page, ui_server)
    clear(page)
    ask(page, ZEPHYR_Q)
    first = final_answers(page, 1)[0]
    assert "12 million dollars" in first and "[1]" in first, first
    ui_server.stub.responder = _standalone
    try:
        ask(page, ASYLUM_Q)
        second = final_answers(page, 2)[1]
    finally:
        ui_server.stub.responder = scripted_reply
    assert "8,000" in second, second

    answer1 = page.locator(FINAL).nth(0)
    marker = answer1.locator(".qa-text a.qa-link").first
    # Hovering shows the quote.
    assert "12 million dollars" in (marker.get_attribute("title") or "")
    citation = answer1.locator("details.qa-cite").first
    assert citation.get_attribute("open") is None
    assert not citation.locator("mark").is_visible()
    marker.hover()
    shot(page, "1-marker-hover")
    marker.click()  # the first answer's marker still opens its own quote after a second answer
    mark = citation.locator("mark")
    mark.wait_for(state="visible")
    assert "12 million dollars" in mark.inner_text()
    assert citation.get_attribute("open") is not None
    # The passage cards are lettered, never numbered like the markers.
    labels = page.locator("#qa-sources .qa-num").all_inner_texts()
    assert labels and labels[0] == "A" and not any(label.isdigit() for label in labels), labels
    shot(page, "2-marker-opened-quote")
    assert page.dialogs == []


def test_conversation_survives_a_reload(ui_server: UIServer, page) -> None:  # type: ignore[no-untyped-def]
    open_page(page, ui_server)
    clear(page)
    ask(page, ZEPHYR_Q)
    before = final_answers(page, 1)
    page.reload()
    page.wait_for_selector("#qa-status .qa-index-ok")
    after = final_answers(page, 1)
    assert after == before
    assert ZEPHYR_Q in page.locator("#qa-chat").inner_text()
    assert "Zephyr" in page.inner_text("#qa-sources")  # the side panel is restored too
    page.locator(f"{FINAL} .qa-text a.qa-link").first.click()  # and the citations still open
    page.locator(f"{FINAL} details.qa-cite mark").first.wait_for(state="visible")
    shot(page, "3-after-reload")
    clear(page)
    page.reload()
    page.wait_for_selector("#qa-status .qa-index-ok")
    page.wait_for_timeout(1000)
    assert page.locator(FINAL).count() == 0  # Clear empties the stored conversation too


def _source_outlets(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#qa-sources .qa-source .qa-source-meta").all_inner_texts()


def test_settings_filter_changes_the_sources_of_the_next_answer(ui_server: UIServer, page) -> None:  # type: ignore[no-untyped-def]
    open_page(page, ui_server)
    clear(page)
    ask(page, FERRY_Q)
    final_answers(page, 1)
    unfiltered = _source_outlets(page)
    assert any("Harbor Times" in o for o in unfiltered), unfiltered
    assert any("Lumen Gazette" in o for o in unfiltered), unfiltered

    page.get_by_text("Settings", exact=True).click()
    choose(page, "#qa-outlet", "Lumen Gazette")
    page.locator("#qa-k input[type=number]").fill("2")
    page.locator("#qa-k input[type=number]").press("Enter")
    shot(page, "4-settings-panel")
    ask(page, FERRY_Q)
    answer = final_answers(page, 2)[1]
    filtered = _source_outlets(page)
    assert filtered and all("Lumen Gazette" in o for o in filtered), filtered
    assert len(filtered) <= 2
    assert "9 euros" in answer, answer
    shot(page, "5-filtered-answer")

    page.locator("#qa-since input, #qa-since textarea").first.fill("2024-06-01")
    ask(page, FERRY_Q)  # nothing from that outlet after June 1st: no passages, no answer
    page.wait_for_selector("#qa-sources .qa-empty")
    assert "No passages found" in page.inner_text("#qa-sources")


def test_upload_appears_in_and_is_removed_from_the_articles_panel(
    ui_server: UIServer, page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "orchard-robots.md"
    upload.write_text(
        "# Pearwhistle raises money for orchard robots\n\n"
        "The orchard robotics start-up Pearwhistle raised 40 million euros from investors in Lyon.\n",
        encoding="utf-8",
    )
    open_page(page, ui_server)
    before = ui_server.app.qa_state.stats.articles
    page.get_by_text("Articles", exact=True).click()
    page.wait_for_selector("#qa-library table")
    assert "Pearwhistle" not in page.inner_text("#qa-library")

    page.get_by_text("Add articles").click()
    page.locator("#qa-upload input[type=file]").set_input_files([str(upload)])
    page.wait_for_selector("#qa-upload-report .qa-up-ok", timeout=120_000)
    wait_for(lambda: "Pearwhistle" in page.inner_text("#qa-library"), timeout=30)
    wait_for(lambda: f"{before + 1} articles" in page.inner_text("#qa-status"))
    row = page.locator("#qa-library tr", has_text="Pearwhistle")
    assert "uploaded" in row.inner_text()
    page.locator("#qa-lib-search textarea, #qa-lib-search input").first.fill("pearwhistle")
    wait_for(lambda: page.locator("#qa-library tbody tr").count() == 1)
    shot(page, "6-upload-in-articles-panel")

    choose(page, "#qa-remove-pick", "orchard-robots.md")
    page.locator("#qa-remove").click()
    page.wait_for_selector("#qa-remove-report .qa-up-ok")
    assert "removed" in page.inner_text("#qa-remove-report")
    wait_for(lambda: "Pearwhistle" not in page.inner_text("#qa-library"), timeout=30)
    wait_for(lambda: f"{before} articles" in page.inner_text("#qa-status"))
    assert not (ui_server.settings.index_dir.parent / "uploads" / "orchard-robots.md").exists()
    page.locator("#qa-lib-search textarea, #qa-lib-search input").first.fill("")
    shot(page, "7-upload-removed")


def test_stop_ends_the_answer_and_regenerate_asks_again(ui_server: UIServer, page) -> None:  # type: ignore[no-untyped-def]
    open_page(page, ui_server)
    clear(page)
    ui_server.stub.delay_s = 8.0
    try:
        ask(page, ZEPHYR_Q)
        page.wait_for_selector("#qa-sources .qa-source")  # the sources are shown at once
        page.wait_for_selector("#qa-chat .qa-stage-now .qa-elapsed")  # with a running clock
        shot(page, "8-progress-stages")
        page.locator("#qa-stop").click()
        page.wait_for_selector("#qa-chat .qa-stopped", timeout=5_000)
        shot(page, "9-stopped")
    finally:
        ui_server.stub.delay_s = 0.8
    assert page.locator(FINAL).count() == 0
    page.locator("#qa-send").wait_for(state="visible")
    # Regenerate (the chat's retry button on the last answer) asks the same question again.
    page.locator("#qa-chat button[aria-label='Retry']").click()
    answer = final_answers(page, 1)[0]
    assert "12 million dollars" in answer, answer
    assert page.locator("#qa-chat .qa-stopped").count() == 0  # the stopped answer was replaced

"""The chat's look and page behaviour: header, theme, CSS, and the script that links citations.

The script is attached once per page (``launch(js=…)``) and works by event delegation, because the
chat re-renders its messages: a click on an inline marker ``[n]`` opens that citation in its own
message (so every past answer's citations stay reachable) and in the side panel when it is shown
there, scrolls to it and flashes the highlighted quote; "Copy" copies an answer with its sources.
"""

from __future__ import annotations

import gradio as gr

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
.qa-link { text-decoration: none; cursor: pointer; border-radius: 4px; padding: 0 1px; }
.qa-link:hover, .qa-link:focus { background: #e0e7ff; outline: none; }
.qa-badge-ok { background: #dcfce7; color: #166534; border: 1px solid #86efac; }
.qa-badge-draft { background: #f1f5f9; color: #475569; border: 1px dashed #94a3b8; }
.qa-draft .qa-draft-text { color: var(--body-text-color-subdued); font-style: italic; }
.qa-struck { text-decoration: line-through; color: var(--body-text-color-subdued); }
.qa-stages { list-style: none; margin: 6px 0 0 !important; padding: 0 !important; font-size: 13px; }
.qa-stage { margin: 2px 0; color: var(--body-text-color-subdued); }
.qa-stage-now { color: var(--body-text-color); }
.qa-stage-done { color: #166534; }
.qa-elapsed { color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; margin-left: 4px; }
.qa-changed { margin-top: 6px; font-size: 13px; color: #92400e; background: #fffbeb; border: 1px solid #fcd34d;
  border-radius: 8px; padding: 4px 8px; }
.qa-changed summary { cursor: pointer; }
.qa-cites { margin-top: 8px; }
.qa-cites .qa-cite { margin-bottom: 4px; padding: 4px 8px; }
.qa-flash { animation: qa-flash 1.6s ease-out; }
.qa-flash mark { box-shadow: 0 0 0 3px #f59e0b; }
@keyframes qa-flash { from { background: #fde68a; } to { background: transparent; } }
.qa-actions { margin-top: 6px; display: flex; gap: 8px; }
.qa-copy { font-size: 12px; padding: 1px 10px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); cursor: pointer; color: var(--body-text-color-subdued); }
.qa-copy:hover { color: var(--body-text-color); }
.qa-stopped { color: var(--body-text-color-subdued); }
#qa-settings-line { font-size: 12px; color: var(--body-text-color-subdued); }
.qa-lib { width: 100%; border-collapse: collapse; font-size: 12px; }
.qa-lib th { text-align: left; font-weight: 600; border-bottom: 1px solid var(--border-color-primary); padding: 3px 4px; }
.qa-lib td { border-bottom: 1px solid var(--border-color-primary); padding: 3px 4px; vertical-align: top; }
.qa-lib td.qa-id { font-family: ui-monospace, monospace; color: var(--body-text-color-subdued); }
.qa-lib-wrap { max-height: 320px; overflow-y: auto; }
.qa-tag { font-size: 11px; padding: 0 6px; border-radius: 999px; background: #e0f2fe; color: #075985; }
"""

# Runs once per page load. Gradio's sanitiser keeps ids, classes, href and title (not data-*).
JS = r"""
() => {
  if (window.__qaChat) return;
  window.__qaChat = true;
  const flash = (el) => {
    el.classList.remove("qa-flash");
    void el.offsetWidth;
    el.classList.add("qa-flash");
    setTimeout(() => el.classList.remove("qa-flash"), 1700);
  };
  const openCitation = (id) => {
    const inChat = document.getElementById(id);
    const inPanel = document.getElementById(id.replace(/^qa-c-/, "qa-p-"));
    for (const el of [inPanel, inChat]) {
      if (!el) continue;
      el.open = true;
      flash(el);
    }
    const target = inChat || inPanel;
    if (target) target.scrollIntoView({ block: "nearest", behavior: "smooth" });
    return Boolean(target);
  };
  const plainText = (answer) => {
    const text = answer.querySelector(".qa-text");
    let out = text ? text.innerText.trim() : "";
    const cites = [...answer.querySelectorAll(".qa-cites details.qa-cite")].map((d) => {
      const head = d.querySelector("summary").innerText.trim();
      const mark = d.querySelector("mark");
      return mark ? `${head}\n    “${mark.textContent.trim()}”` : head;
    });
    if (cites.length) out += "\n\nSources:\n" + cites.join("\n");
    return out;
  };
  const copy = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
  };
  document.addEventListener("click", (event) => {
    const marker = event.target.closest("a.qa-link");
    if (marker) {
      event.preventDefault();
      event.stopPropagation();
      openCitation(marker.getAttribute("href").slice(1));
      return;
    }
    const button = event.target.closest("button.qa-copy");
    if (button) {
      const answer = button.closest(".qa-answer");
      const text = answer ? plainText(answer) : "";
      window.qaLastCopied = text;
      copy(text).then((ok) => {
        button.textContent = ok ? "Copied" : "Copy failed";
        setTimeout(() => (button.textContent = "Copy"), 1500);
      });
    }
  }, true);
  document.addEventListener("keydown", (event) => {
    const marker = event.target.closest && event.target.closest("a.qa-link");
    if (marker && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      openCitation(marker.getAttribute("href").slice(1));
    }
  }, true);
}
"""

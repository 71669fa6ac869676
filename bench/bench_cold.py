"""Cold start of the CLI: `qa search` in a fresh process, wall time, CPU time and peak RSS (figures, not a test).

    .venv/bin/python bench/bench_cold.py [--runs 3] [--question "size of the caravan"] [--importtime] [--fresh]

Each run starts a new interpreter, as a user typing the command does. Absolute times drift with the
machine's load, so the search is also given as a ratio to ``python -c "import qa"`` measured alongside.
``--importtime`` adds the modules that cost most to import in one ``qa search`` (``python -X importtime``),
summed per top-level package. The index is the one of QA_INDEX_DIR (built first when missing).
``--fresh`` (or ``--only-fresh``) times what `make chat` and a first question cost on a fresh install:
joining the model, exporting the encoder, indexing, starting the engine, the first answer.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable


def run_once(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user+sys) and peak RSS in MB of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def import_costs(argv: list[str], top: int) -> list[tuple[str, float]]:
    """Cumulative import time per top-level package (seconds), most expensive first."""
    proc = subprocess.run(
        [PY, "-X", "importtime", *argv], capture_output=True, text=True, cwd=ROOT, check=True
    )
    per_pkg: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if not m:
            continue
        self_us, name = int(m.group(1)), m.group(4)
        pkg = name.split(".")[0]
        per_pkg[pkg] = per_pkg.get(pkg, 0.0) + self_us / 1e6
    return sorted(per_pkg.items(), key=lambda kv: -kv[1])[:top]


FRESH = """
import sys, tempfile, time
from pathlib import Path
from qa.config import Settings
t0 = time.perf_counter()
def lap(label, t=[t0]):
    now = time.perf_counter(); print(f"  {label:<34}{now - t[0]:7.1f} s", flush=True); t[0] = now
tmp = Path(tempfile.mkdtemp(prefix="qa-fresh-"))
s = Settings.from_env(cache_dir=tmp / "cache", index_dir=tmp / "index")
from qa.engine import ensure_local_model, warm
ensure_local_model(s, progress=False); lap("join + verify the model (1.1 GB)")
from qa.embed import export_onnx, get_embedder
export_onnx(get_embedder(s.embedder), s.cache_dir); lap("export the query encoder (ONNX)")
from qa.index import ensure_index
ensure_index(s, progress=False); lap("index articles/")
warm(s); lap("engine start + warm-up request")
from qa.answer import Pipeline
a = Pipeline(s).ask(sys.argv[1]); lap("first answer")
print(f"  {'total':<34}{time.perf_counter() - t0:7.1f} s   answer: {a.text[:60]!r}")
import shutil; shutil.rmtree(tmp, ignore_errors=True)
"""


def fresh_install(question: str) -> None:
    """What `make chat` then a first question costs when nothing is prepared (the venv excepted)."""
    print("\nfresh install (new cache and index folders; model joined from the installed parts):")
    subprocess.run([PY, "-c", FRESH, question], cwd=ROOT, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--question", default="size of the caravan")
    ap.add_argument("--importtime", action="store_true", help="also list import cost per package")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--fresh", action="store_true", help="also time a fresh install up to a first answer")
    ap.add_argument("--only-fresh", action="store_true", help="only the fresh-install timing")
    args = ap.parse_args()
    if args.only_fresh:
        fresh_install("How many soldiers has Mexico assigned to enforce immigration laws?")
        return

    # A missing index would be built inside the first timed run. Built in a child process: a child
    # forked from a parent that loaded torch would report the parent's memory as its own peak.
    subprocess.run([PY, "-c", "from qa.index import ensure_index; ensure_index()"], cwd=ROOT, check=True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    commands = {
        "import qa": [PY, "-c", "import qa"],
        "qa search": [PY, "-m", "qa.cli", "search", args.question],
    }
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():  # interleaved, so that load changes hit both alike
            results[name].append(run_once(argv))
    print(f"{'command':<12}{'wall s':>9}{'cpu s':>9}{'peak MB':>9}   (median of {args.runs})")
    med: dict[str, tuple[float, float, float]] = {}
    for name, rows in results.items():
        med[name] = tuple(statistics.median(r[i] for r in rows) for i in range(3))  # type: ignore[assignment]
        wall, cpu, rss = med[name]
        print(f"{name:<12}{wall:>9.2f}{cpu:>9.2f}{rss:>9.0f}")
    base, search = med["import qa"], med["qa search"]
    print(f"qa search / import qa: wall {search[0] / base[0]:.1f}x, cpu {search[1] / base[1]:.1f}x")
    if args.importtime:
        print(f"\nimport time per package in one `qa search` (self time summed, top {args.top}):")
        for pkg, secs in import_costs(["-m", "qa.cli", "search", args.question], args.top):
            print(f"  {pkg:<28}{secs:>7.3f} s")
    if args.fresh:
        fresh_install("How many soldiers has Mexico assigned to enforce immigration laws?")


if __name__ == "__main__":
    main()

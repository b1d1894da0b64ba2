"""Measures the live connections view (run by scripts/measure-live, inside
its Xvfb and D-Bus session): CPU use of the app process and of its web view
processes, and the view's drawing (time per drawing, gaps between frames),
with 0 and with 2,000 sessions open through the proxy.

CPU is the processes' user+system time over a window, as a percentage of
one core. Every phase is bounded in time; the load is bounded by
scripts/hold-sessions itself."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import App, app_env, app_pids, free_port, port_open  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
APP = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "target" / "release" / "socksbox"
SESSIONS = int(os.environ.get("SOCKSBOX_MEASURE_SESSIONS", "2000"))
CPU_WINDOW = 20.0
FRAME_WINDOW = 10.0
WARM_UP = 15.0
TICKS = os.sysconf("SC_CLK_TCK")


def processes(app_pid: int) -> dict[str, int]:
    """The app and its WebKit helper processes: name -> pid."""
    found = {"app": app_pid}
    children = subprocess.run(["pgrep", "-P", str(app_pid)], capture_output=True, text=True).stdout.split()
    for pid in map(int, children):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("WebKit"):
            found[name] = pid
    return found


def cpu_time(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure_cpu(pids: dict[str, int], seconds: float = CPU_WINDOW) -> dict[str, float]:
    before = {name: cpu_time(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: 100 * (cpu_time(pid) - before[name]) / seconds for name, pid in pids.items()}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


FRAMES_JS = """
const [seconds, scroll, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const box = document.querySelector('#conn-scroll');
const gaps = []; const renders = [];
let last = performance.now(); const end = last + seconds * 1000;
let lastRender = document.querySelector('#view-connections').dataset.renderMs;
function frame(now) {
  gaps.push(now - last); last = now;
  const r = document.querySelector('#view-connections').dataset.renderMs;
  if (r !== lastRender) { renders.push(Number(r)); lastRender = r; }
  if (scroll && box) {
    box.scrollTop = box.scrollTop + 45 >= box.scrollHeight - box.clientHeight ? 0 : box.scrollTop + 45;
  }
  if (now < end) requestAnimationFrame(frame); else done({ gaps, renders });
}
requestAnimationFrame(frame);
"""


def frames(app: App, scroll: bool) -> dict[str, float]:
    """Frame gaps while the page animates (and, with scroll, while the table
    scrolls a row and a half every frame): the stutter a user would see."""
    app.driver.set_script_timeout(FRAME_WINDOW + 20)
    result = app.driver.execute_async_script(FRAMES_JS, FRAME_WINDOW, scroll)
    gaps = sorted(result["gaps"][1:])
    renders = sorted(result["renders"]) or [0.0]
    return {
        "fps": len(gaps) / FRAME_WINDOW,
        "gap_p50": statistics.median(gaps),
        "gap_p99": gaps[int(len(gaps) * 0.99) - 1],
        "gap_max": gaps[-1],
        "long_frames": sum(g > 50 for g in gaps),
        "render_p50": statistics.median(renders),
        "render_max": renders[-1],
    }


def wait_until(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"measure-live: {what} did not happen within {timeout:.0f} s")
        time.sleep(0.25)


def row(label: str, cpu: dict[str, float], pids: dict[str, int]) -> str:
    web = sum(v for k, v in cpu.items() if k.startswith("WebKitWeb"))
    net = sum(v for k, v in cpu.items() if k.startswith("WebKitNet"))
    total = sum(cpu.values())
    web_rss = sum(rss_mib(pid) for name, pid in pids.items() if name.startswith("WebKitWeb"))
    return (
        f"| {label} | {cpu['app']:.1f} % | {web:.1f} % | {net:.1f} % | **{total:.1f} %** "
        f"| {rss_mib(pids['app']):.0f} / {web_rss:.0f} MiB |"
    )


def frame_row(label: str, f: dict[str, float]) -> str:
    return (
        f"| {label} | {f['fps']:.0f} | {f['gap_p50']:.1f} ms | {f['gap_p99']:.1f} ms | {f['gap_max']:.1f} ms "
        f"| {f['long_frames']} | {f['render_p50']:.2f} ms | {f['render_max']:.2f} ms |"
    )


def main() -> None:
    if not APP.exists():
        raise SystemExit(f"measure-live: {APP} does not exist (cargo build --release -p socksbox-app)")
    home = Path(tempfile.mkdtemp(prefix="socksbox-measure-"))
    port = free_port()
    (home / "config" / "socksbox").mkdir(parents=True)
    (home / "config" / "socksbox" / "settings.json").write_text(
        json.dumps({"port": port, "startServerOnLaunch": True, "notifications": False})
    )
    driver_port, native = free_port(), free_port()
    env = app_env(home)
    tauri_driver = os.environ.get("TAURI_DRIVER") or str(Path.home() / ".cargo" / "bin" / "tauri-driver")
    # tauri-driver writes to its own copy of the descriptor.
    with open(home / "driver.log", "wb") as log:
        driver = subprocess.Popen(
            [tauri_driver, "--port", str(driver_port), "--native-port", str(native)], env=env, stdout=log, stderr=log
        )
    load = None
    try:
        wait_until("tauri-driver answering", lambda: port_open(driver_port), 20)
        os.environ["SOCKSBOX_APP"] = str(APP)
        import test_app

        test_app.APP = APP
        app = App(f"http://127.0.0.1:{driver_port}", home)
        app.text_becomes("#server-state", "Running", "the server started at launch")
        # The app launched with this home (the newest, if several): not
        # another SocksBox that happens to run on the machine.
        launched = app_pids(home)
        if not launched:
            raise SystemExit(f"measure-live: no {APP.name} process with the home {home} was found")
        app_pid = launched[-1]
        pids = processes(app_pid)
        lines = [
            "| Sessions, view | App (proxy + sampler) | Web view | Network process | Total | RSS app / web view |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        frame_lines = [
            "| Sessions, what the view does | Frames/s | Gap p50 | Gap p99 | Gap max | Frames > 50 ms "
            "| Drawing p50 | Drawing max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]

        time.sleep(WARM_UP)
        lines.append(row("0, Status view (not watching)", measure_cpu(pids), pids))
        app.go("connections")
        # The first seconds after the view opens cost more (JavaScriptCore
        # compiles, fonts and the graph's canvas are set up): not the
        # steady state this measures.
        time.sleep(WARM_UP)
        lines.append(row("0, Connections view", measure_cpu(pids), pids))
        frame_lines.append(frame_row("0, idle", frames(app, scroll=False)))

        load = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "scripts" / "hold-sessions"),
                "--proxy",
                f"127.0.0.1:{port}",
                "--count",
                str(SESSIONS),
                "--seconds",
                "240",
                "--trickle",
                "512",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = load.stdout.readline() if load.stdout else ""
        if not first.startswith("holding"):
            raise SystemExit(f"measure-live: the load did not start: {first!r}")
        print(f"load: {first.strip()}", flush=True)
        wait_until(f"{SESSIONS} rows counted", lambda: app.el("#open-count").text == str(SESSIONS), 30)
        time.sleep(5)
        lines.append(row(f"{SESSIONS}, Connections view", measure_cpu(pids), pids))
        frame_lines.append(frame_row(f"{SESSIONS}, updating", frames(app, scroll=False)))
        frame_lines.append(frame_row(f"{SESSIONS}, updating while scrolled", frames(app, scroll=True)))
        sorted_by = app.el("#conn-table button.sort[data-key='rateDown']")
        sorted_by.click()
        frame_lines.append(frame_row(f"{SESSIONS}, sorted by rate", frames(app, scroll=False)))

        app.go("status")
        time.sleep(2)
        lines.append(row(f"{SESSIONS}, Status view (not watching)", measure_cpu(pids), pids))
        app.go("connections")
        app.driver.minimize_window()
        time.sleep(2)
        lines.append(row(f"{SESSIONS}, window minimised", measure_cpu(pids), pids))
        app.driver.maximize_window()

        print("\nCPU, percent of one core, over", CPU_WINDOW, "s:\n")
        print("\n".join(lines))
        print(f"\nDrawing, over {FRAME_WINDOW} s of animation frames:\n")
        print("\n".join(frame_lines), flush=True)
        app.close()
    finally:
        if load and load.poll() is None:
            load.terminate()
            load.wait(timeout=20)
        driver.terminate()
        try:
            driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver.kill()


if __name__ == "__main__":
    main()

"""Load on the review app: N simulated reviewers at once on loopback, browsing and deciding.

The two scenarios of issue 17 (run each once, on an otherwise idle machine, from the checkout):

    .venv/bin/python benchmarks/bench_review_load.py                # 1: 50 reviewers, think 1 s
    .venv/bin/python benchmarks/bench_review_load.py --flood 60     # 2: plus 60 sign-in flooders

Targets: scenario 1, p95 <= 200 ms over the reviewers' requests; scenario 2, p95 <= 300 ms for
the signed-in reviewers; both with 0 errors and every accepted decision stored once.

Starts ``frontdoor serve --workers 2`` (a separate process, SQLite in WAL mode) on a free
loopback port over sample records (``pipelines.review_sample``: a synthetic council), signs in N reviewers (argon2 at the
production cost), then for ``--seconds`` each reviewer loops: open the queue (sometimes
filtered), open a case, and on about 40% of cases record a decision. Think time between pages
is uniform between 0.5 and 1.5 times ``--think``. Prints one JSON document (p50/p95/p99 per
kind of request, errors, the decisions the clients saw accepted against those in the
database: none may be lost or duplicated), then a summary line:
``p50 .. ms  p95 .. ms  errors ..  decisions stored ../..  targets met|NOT met``.

With ``--flood N``, N anonymous clients (in a process of their own, so that they do not slow
the reviewers' own event loop) post wrong passwords to the sign-in form as fast as they are
answered for the whole window; the measured reviewers are already signed in. All clients come
from 127.0.0.1, so the per-address sign-in limit is lifted for the run; the overall limit
(review.sign_in_global_per_minute) stays at its default and is what answers the flood.

The load generator runs on the same machine as the server: quote the load average (printed)
with any figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontdoor.pipelines import review_sample  # noqa: E402
from frontdoor.review import store  # noqa: E402
from frontdoor.review.live import free_port  # noqa: E402
from frontdoor.settings import load_settings  # noqa: E402

PASSWORD = "load-test-password-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = re.compile(r'name="form_token" value="([^"]+)"')
CASES = re.compile(r'href="/cases/([^"]+)"')
LOGIN = re.compile(r'name="login_token" value="([^"]+)"')
ACTIONS = ["strategy_discussion", "assessment", "early_help", "no_further_action", "other"]


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.accepted: list[str] = []  # form tokens of decisions the server accepted (303)

    def add(self, kind: str, seconds: float) -> None:
        self.latency[kind].append(seconds * 1000)


async def timed(stats: Stats, kind: str, call, expect: int):
    start = time.perf_counter()
    try:
        response = await call()
    except httpx.HTTPError as err:
        stats.errors.append(f"{kind}: {type(err).__name__}")
        return None
    stats.add(kind, time.perf_counter() - start)
    if response.status_code != expect:
        stats.errors.append(f"{kind}: HTTP {response.status_code}")
        return None
    return response


async def sign_in(client: httpx.AsyncClient, username: str, stats: Stats) -> bool:
    try:
        page = await client.get("/login")
    except httpx.HTTPError as err:
        stats.errors.append(f"login page: {type(err).__name__}")
        return False
    token = LOGIN.search(page.text).group(1)
    response = await timed(
        stats,
        "login",
        lambda: client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "login_token": token, "next": ""},
        ),
        303,
    )
    return response is not None


class Window:
    """The measured window opens once every reviewer has signed in (argon2 logins are not in it)."""

    def __init__(self, reviewers: int, seconds: float):
        self.waiting = reviewers
        self.seconds = seconds
        self.opened = asyncio.Event()
        self.stop_at = float("inf")

    def signed_in(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.stop_at = time.monotonic() + self.seconds
            self.opened.set()


async def reviewer(
    arrivals: asyncio.Semaphore,
    url: str,
    username: str,
    stats: Stats,
    window: Window,
    think: float,
    teams,
    bands,
    rng: random.Random,
):
    async with httpx.AsyncClient(base_url=url, timeout=120, follow_redirects=False) as client:
        async with arrivals:  # reviewers arrive a few at a time, as at the start of a shift
            signed = await sign_in(client, username, stats)
        window.signed_in()
        if not signed:
            return
        await window.opened.wait()
        await asyncio.sleep(rng.uniform(0, 1) * think)  # reviewers do not all click at once
        while time.monotonic() < window.stop_at:
            params = {}
            if rng.random() < 0.3:
                params = rng.choice(
                    [{"band": rng.choice(bands)}, {"team": rng.choice(teams)}, {"status": "new"}]
                )
            if rng.random() < 0.2:
                params["page"] = str(rng.randint(1, 3))
            queue = await timed(
                stats, "queue", lambda p=params: client.get("/queue", params=p), 200
            )
            if queue is None:
                continue
            cases = CASES.findall(queue.text)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            if not cases or time.monotonic() >= window.stop_at:
                continue
            case_id = rng.choice(cases)
            case = await timed(stats, "case", lambda c=case_id: client.get(f"/cases/{c}"), 200)
            if case is None:
                continue
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            if rng.random() < 0.4 and time.monotonic() < window.stop_at:
                form_token = FORM.search(case.text).group(1)
                data = {
                    "csrf_token": CSRF.search(case.text).group(1),
                    "form_token": form_token,
                    "agrees": rng.choice(["yes", "no"]),
                    "action": rng.choice(ACTIONS),
                    "rationale": f"Load test rationale {secrets.token_hex(4)}: history weighed.",
                }
                posted = await timed(
                    stats,
                    "decision",
                    lambda d=data, c=case_id: client.post(f"/cases/{c}/decisions", data=d),
                    303,
                )
                if posted is not None:
                    stats.accepted.append(form_token)


async def flooder(url: str, stop_at: float, outcomes: dict, rng: random.Random) -> None:
    """An anonymous client posting wrong passwords to the sign-in form, without pause."""
    async with httpx.AsyncClient(base_url=url, timeout=120, follow_redirects=False) as client:
        while time.monotonic() < stop_at:
            try:
                page = await client.get("/login")
                token = LOGIN.search(page.text).group(1)
                name = rng.choice(["admin", "reviewer00", f"guess{rng.randint(0, 999)}"])
                answer = await client.post(
                    "/login",
                    data={"username": name, "password": secrets.token_hex(8), "login_token": token},
                )
                outcomes[answer.status_code] = outcomes.get(answer.status_code, 0) + 1
            except (httpx.HTTPError, AttributeError) as err:
                outcomes[type(err).__name__] = outcomes.get(type(err).__name__, 0) + 1


def flood_main(url: str, clients: int, seconds: float) -> None:
    """The flood's own process (``--flood-only``): prints its answers' counts as JSON."""
    outcomes: dict = {}
    stop_at = time.monotonic() + seconds

    async def run() -> None:
        await asyncio.gather(
            *(flooder(url, stop_at, outcomes, random.Random(1000 + i)) for i in range(clients))
        )

    asyncio.run(run())
    print(json.dumps({str(k): v for k, v in sorted(outcomes.items(), key=str)}))


async def flood_process(url: str, window: Window, clients: int, outcomes: dict) -> None:
    """Start the flood in a process of its own when the measured window opens."""
    await window.opened.wait()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--flood-only",
        url,
        "--flood",
        str(clients),
        "--seconds",
        str(window.seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    outcomes.update(json.loads(out.decode().strip().splitlines()[-1]))


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    arr = np.asarray(values)
    return {
        "n": int(arr.size),
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "max_ms": round(float(arr.max()), 1),
    }


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean think time between pages, seconds (0: none)"
    )
    parser.add_argument(
        "--children",
        type=int,
        default=24000,
        help="simulated population of the synthetic council (about one in seven is referred)",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--flood", type=int, default=0, help="anonymous clients flooding the sign-in form"
    )
    parser.add_argument(
        "--flood-only", metavar="URL", help=argparse.SUPPRESS
    )  # the flood's process
    return parser.parse_args()


def _sample_council(args: argparse.Namespace, tmp: Path):
    """A configuration in ``tmp`` and a sample council with one reviewer per simulated person."""
    config = {
        "paths": {"root": str(tmp)},
        "privacy": {"pseudonym_key": "bench-key-0123456789abcdef"},
        "tracking": {"tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}"},
        "review": {
            "database_url": f"sqlite:///{tmp / 'review.db'}",
            "secret_key": secrets.token_hex(32),  # production mode: no generated demo key
            # every simulated person signs in from 127.0.0.1: only the per-address limit is lifted
            "sign_in_per_ip_per_minute": 100_000,
        },
    }
    config_file = tmp / "frontdoor.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    settings = load_settings(config_file)
    t0 = time.perf_counter()
    users = {f"reviewer{i:02d}": "reviewer" for i in range(args.reviewers)}
    review_sample.populate(
        settings, children=args.children, users=users, now=datetime.now(), password=PASSWORD
    )
    engine = store.ready_engine(settings)
    flagged = store.queue(settings, engine, store.QueueFilters())[1]
    print(
        f"sample council: {args.children} children, {flagged} flagged referrals ({time.perf_counter() - t0:.1f} s to build)"
    )
    return config_file, settings, users, engine, flagged


def _start_server(tmp: Path, config_file: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """``frontdoor serve`` with ``workers`` processes, answering on its health check."""
    port = free_port()
    stderr_file = open(tmp / "server.log", "wb")  # noqa: SIM115 - a file, never a full pipe
    env = {**os.environ, "FRONTDOOR_CONFIG": str(config_file)}
    command = [str(ROOT / ".venv/bin/frontdoor"), "--config", str(config_file), "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr_file,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a shared machine can take minutes to start two workers
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()  # first: reading stderr waits for the server to end
            server.wait(timeout=30)
            log = (tmp / "server.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"server did not start: {log}")
        time.sleep(0.1)


def _warm_up(url: str) -> None:
    """The first case page loads the canonical tables into the server's memory."""
    with httpx.Client(base_url=url, follow_redirects=False, timeout=120) as warm:
        token = LOGIN.search(warm.get("/login").text).group(1)
        data = {"username": "reviewer00", "password": PASSWORD, "login_token": token}
        # (the warm-up's own session; the reviewers below sign in for themselves)
        warm.post("/login", data=data)
        first = CASES.search(warm.get("/queue").text).group(1)
        warm.get(f"/cases/{first}")


def _load(url: str, users: dict, settings, args: argparse.Namespace) -> tuple[Stats, dict]:
    """Every reviewer (and flooder) at once for ``args.seconds``."""
    stats = Stats()
    flood_outcomes: dict = {}

    async def run() -> None:
        window = Window(len(users), args.seconds)
        arrivals = asyncio.Semaphore(4)
        rng = random.Random(7)
        tasks = [
            reviewer(
                arrivals,
                url,
                name,
                stats,
                window,
                args.think,
                settings.review.teams,
                settings.review.flagged_bands,
                random.Random(rng.random()),
            )
            for name in users
        ]
        if args.flood:
            tasks.append(flood_process(url, window, args.flood, flood_outcomes))
        await asyncio.gather(*tasks)

    asyncio.run(run())
    return stats, flood_outcomes


def _stored(settings, engine, stats: Stats) -> dict:
    """What reached the database against what the clients saw accepted."""
    exported = store.export_decisions(settings)
    with engine.connect() as conn:
        tokens = [r[0] for r in conn.exec_driver_sql("select form_token from decisions")]
    stored = set(tokens)
    return {
        "decisions_accepted": len(stats.accepted),
        "decisions_in_db": len(exported),
        "lost": len([t for t in stats.accepted if t not in stored]),
        "duplicated": len(tokens) - len(stored),
        "unexpected_in_db": len(stored - set(stats.accepted)),
    }


def main() -> None:
    args = _arguments()
    if args.flood_only:
        flood_main(args.flood_only, args.flood, args.seconds)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        config_file, settings, users, engine, flagged = _sample_council(args, tmp)
        server, url = _start_server(tmp, config_file, args.workers)
        try:
            _warm_up(url)
            load_before = os.getloadavg()[0]
            stats, flood_outcomes = _load(url, users, settings, args)
        finally:
            server.terminate()
            server.wait(timeout=30)
        _report(args, settings, engine, stats, flood_outcomes, flagged, load_before)
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _report(args, settings, engine, stats: Stats, flood_outcomes: dict, flagged, load_before):
    """Print the figures (JSON, then one summary line); write them to --json if asked."""
    measured = [v for k in ("queue", "case", "decision") for v in stats.latency[k]]
    figures = {
        "reviewers": args.reviewers,
        "seconds": args.seconds,
        "think_mean_s": args.think,
        "cores": os.cpu_count(),
        "workers": args.workers,
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
        "flagged_referrals": flagged,
        "requests": len(measured),
        "requests_per_s": round(len(measured) / args.seconds, 1),
        "all": percentiles(measured),
        **{k: percentiles(stats.latency[k]) for k in ("queue", "case", "decision", "login")},
        "errors": len(stats.errors),
        "error_kinds": sorted(set(stats.errors))[:10],
        **_stored(settings, engine, stats),
        "flood_clients": args.flood,
        "flood_answers": {str(k): v for k, v in sorted(flood_outcomes.items(), key=str)},
    }
    print(json.dumps(figures, indent=2))
    target = 300 if args.flood else 200
    ok = (
        figures["all"].get("p95_ms", 1e9) <= target
        and not figures["errors"]
        and not figures["lost"]
        and not figures["duplicated"]
    )
    print(
        f"reviewers {args.reviewers}, think {args.think} s, flood {args.flood}, "
        f"load average {figures['load_average_before']} -> {figures['load_average_after']}: "
        f"p50 {figures['all'].get('p50_ms')} ms  p95 {figures['all'].get('p95_ms')} ms  "
        f"errors {figures['errors']}  decisions stored "
        f"{figures['decisions_in_db']}/{figures['decisions_accepted']} "
        f"(lost {figures['lost']}, duplicated {figures['duplicated']})  "
        f"targets (p95 <= {target} ms, 0 errors, none lost or duplicated) "
        f"{'met' if ok else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

"""The API under gunicorn at concurrency 8, next to bare Django views returning the same JSON.

One gunicorn (production settings: DEBUG off, persistent connections,
``BENCH_WORKERS`` sync workers, default 3) serves both the API and the bare
views of ``benchmarks.bare_views``; wrk, a second process, loads one URL at
a time with 8 connections for ``BENCH_DURATION`` seconds (default 5), API and
bare view alternating run by run so that a burst of load on the shared
machine hits both alike. Each endpoint is first warmed up, and the bare
view's JSON is compared with the API's (a floor that returned less would
flatter the ratio).

The caller is the lead of the team of the 5,000-interaction account, whose
accounts are given a health for the run (``TeamHealth``). The
user throttle is raised so that it is exercised but never answers 429. The
POST writes are deleted after each run and the answer times of the inbound
interactions they answered are recomputed, so the data set is left as found.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone

from accounts.models import Account, ApiToken, User
from benchmarks.dataset import HEAVY_ACCOUNT_ID
from benchmarks.harness import (
    Bench,
    Figure,
    at_least_floor_ratio,
    skipped,
    within_floor_ratio,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
WRK_SCRIPT = PROJECT_DIR / "benchmarks" / "wrk" / "relcrm.lua"
CONCURRENCY = 8


# Every endpoint is judged against its bare view measured in the same run: at
# least THROUGHPUT_RATIO of its requests per second, a p95 at most P95_RATIO of
# its p95. A fixed time in ms says more about the machine than about relcrm (on
# another 2-core machine the bare views themselves answered at p95 27-62 ms), so
# the absolute p95 and the bound it had on the reference machine are notes.
THROUGHPUT_RATIO = 0.7
P95_RATIO = 1.5


@dataclass(frozen=True)
class Endpoint:
    name: str
    api: str
    bare: str
    reference_p95_ms: float  # the reference machine's bound, printed as a note
    post: bool = False


ENDPOINTS = [
    Endpoint(
        "GET /accounts/ (50, health)",
        "/api/v1/accounts/?page_size=50",
        "/bare/accounts/?page_size=50",
        25,
    ),
    Endpoint(
        "GET timeline (5,000-interaction account)",
        f"/api/v1/interactions/?account={HEAVY_ACCOUNT_ID}&page_size=50",
        f"/bare/interactions/?account={HEAVY_ACCOUNT_ID}&page_size=50",
        25,
    ),
    Endpoint(
        "GET /promises/?overdue=true",
        "/api/v1/promises/?overdue=true",
        "/bare/promises/?overdue=true",
        25,
    ),
    Endpoint(
        "POST /interactions/ (2 promises)",
        "/api/v1/interactions/",
        "/bare/interactions/",
        50,
        post=True,
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving ``benchmarks.bare_settings`` on a free port, stopped on exit."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = _free_port()
        self.var_dir = tempfile.TemporaryDirectory(prefix="relcrm-bench-")
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.bare_settings",
            "DEBUG": "0",
            "RELCRM_CONN_MAX_AGE": os.environ.get("RELCRM_CONN_MAX_AGE", "600"),
            "RELCRM_THROTTLE_USER": "100000000/minute",
            # The broker files of the serverless broker (no REDIS_URL) go here, not var/.
            "RELCRM_VAR_DIR": self.var_dir.name,
            "LOG_LEVEL": "WARNING",
        }
        command = [
            sys.executable, "-m", "gunicorn", "relcrm.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--worker-class", "sync", "--log-level", "warning", "--timeout", "60",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base_url}/bare/accounts/", timeout=2)
            except urllib.error.HTTPError as error:
                if error.code == 401:
                    return self  # it answers, and wants a token
                raise RuntimeError(f"gunicorn answers {error.code} at /bare/accounts/") from None
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn exited at start-up") from None
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.var_dir.cleanup()


@dataclass
class WrkRun:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int


def _wrk(url: str, seconds: int, env: dict) -> WrkRun:
    command = [
        "wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), url,
    ]  # fmt: skip
    completed = subprocess.run(
        command,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("RELCRM_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk reported nothing:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.removeprefix("RELCRM_JSON "))
    errors = sum(data[key] for key in data if key.endswith("_errors") or key == "timeouts")
    return WrkRun(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=errors,
    )


def _request(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _difference(api: object, bare: object, where: str = "") -> str:
    """The first place where the bare view's JSON differs from the API's, or ''."""
    if isinstance(api, dict) and isinstance(bare, dict):
        if api.keys() != bare.keys():
            return f"{where or 'top'}: keys {sorted(api)} vs {sorted(bare)}"
        for key in api:
            found = _difference(api[key], bare[key], f"{where}.{key}")
            if found:
                return found
        return ""
    if isinstance(api, list) and isinstance(bare, list):
        if len(api) != len(bare):
            return f"{where}: {len(api)} items vs {len(bare)}"
        for index, (a, b) in enumerate(zip(api, bare, strict=True)):
            found = _difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return ""
    return "" if api == bare else f"{where}: {api!r} vs {bare!r}"


class PostedRows:
    """Removes what the POST runs wrote and restores the answer times they changed."""

    def __init__(self, account_ids: list[int]) -> None:
        self.account_ids = account_ids
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM promises_promise")
            self.last_promise = cursor.fetchone()[0] or 0
        self.last_interaction = self._newest_interaction()

    def _newest_interaction(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM interactions_interaction")
            return cursor.fetchone()[0] or 0

    def remove(self) -> None:
        # wrk has stopped, but gunicorn may still be finishing the requests it had
        # queued: wait until no new interaction appears for a second.
        newest = self._newest_interaction()
        while True:
            time.sleep(1)
            newest, previous = self._newest_interaction(), newest
            if newest == previous:
                break
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM promises_promiseevent WHERE promise_id > %s", [self.last_promise]
            )
            cursor.execute("DELETE FROM promises_promise WHERE id > %s", [self.last_promise])
            cursor.execute(
                "DELETE FROM interactions_interaction_contacts WHERE interaction_id > %s",
                [self.last_interaction],
            )
            cursor.execute(
                "DELETE FROM interactions_interaction WHERE id > %s", [self.last_interaction]
            )
            # An outbound call answered the inbound interactions before it: recompute
            # those accounts' answer times as the generator made them.
            cursor.execute(
                """
                UPDATE interactions_interaction t SET answered_at = w.answered
                FROM (
                    SELECT id, CASE WHEN direction = 'inbound' THEN
                        min(occurred_at) FILTER (WHERE direction = 'outbound') OVER (
                            PARTITION BY account_id ORDER BY occurred_at DESC) END AS answered
                    FROM interactions_interaction WHERE account_id = ANY(%s)
                ) w
                WHERE t.id = w.id AND t.answered_at IS DISTINCT FROM w.answered
                """,
                [self.account_ids],
            )
            cursor.execute(
                "VACUUM promises_promiseevent, promises_promise, interactions_interaction"
            )


def _figures(endpoint: Endpoint, api: list[WrkRun], bare: list[WrkRun], note: str) -> list:
    def series(runs: list[WrkRun], attribute: str) -> list[float]:
        return [getattr(run, attribute) for run in runs]

    p95 = Figure(
        f"{endpoint.name} p95",
        "ms",
        series(api, "p95_ms"),
        series(bare, "p95_ms"),
        within_floor_ratio(P95_RATIO),
    )
    if p95.median is not None:
        p95.note = (
            f"{p95.median:.1f} ms, bare {p95.floor:.1f} ms "
            f"(the reference machine's bound: < {endpoint.reference_p95_ms:g} ms)"
        )
    return [
        Figure(
            f"{endpoint.name} req/s",
            "req/s",
            series(api, "rps"),
            series(bare, "rps"),
            at_least_floor_ratio(THROUGHPUT_RATIO),
            note=note,
        ),
        Figure(f"{endpoint.name} p50", "ms", series(api, "p50_ms"), series(bare, "p50_ms")),
        p95,
        Figure(f"{endpoint.name} p99", "ms", series(api, "p99_ms"), series(bare, "p99_ms")),
    ]


def _check_same_json(server: Server, endpoint: Endpoint, token: str, body: dict) -> str:
    """'' when the bare view answers what the API answers (results, or a created object's shape)."""
    if endpoint.post:
        api = _request(server.base_url + endpoint.api, token, body)
        bare = _request(server.base_url + endpoint.bare, token, body)
        for answer in (api, bare):
            answer.pop("id")
            answer.pop("created_at")
            for promise in answer["promises"]:
                for name in ("id", "interaction", "created_at"):
                    promise.pop(name)
        return _difference(api, bare)
    api = _request(server.base_url + endpoint.api, token)["results"]
    bare = _request(server.base_url + endpoint.bare, token)["results"]
    return _difference(api, bare)


class TeamHealth:
    """Gives the team's accounts a health for the run, so the list shows one; then removes it.

    The data set leaves every health to be computed (all accounts stale, none
    computed); the figure is for ``GET /accounts/`` *with* health.
    """

    def __init__(self, team_id: int) -> None:
        self.team_id = team_id
        self.ids: list[int] = []

    def fill(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE accounts_account SET health_score = score,
                    health_band = CASE WHEN score >= 70 THEN 'healthy'
                                       WHEN score >= 40 THEN 'watch' ELSE 'at_risk' END,
                    health_confidence = round((0.2 + 0.8 * random())::numeric, 3),
                    health_computed_at = now()
                FROM (SELECT id AS account_id, round((10 + 90 * random())::numeric, 1) AS score
                      FROM accounts_account
                      WHERE team_id = %s AND health_computed_at IS NULL) s
                WHERE id = s.account_id
                RETURNING id
                """,
                [self.team_id],
            )
            self.ids = [row[0] for row in cursor.fetchall()]

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE accounts_account SET health_score = NULL, health_band = '',
                    health_confidence = NULL, health_computed_at = NULL
                WHERE id = ANY(%s)
                """,
                [self.ids],
            )


@dataclass
class Load:
    """What every endpoint's measurement needs: the server, the caller, the POST's data."""

    server: Server
    token: str
    seconds: int
    times: dict
    team_accounts: list[int]
    post_body: dict


def run(bench: Bench) -> list[Figure]:
    if shutil.which("wrk") is None:
        reason = "wrk not installed (apt-get install -y wrk)"
        return [
            skipped(f"{e.name} {what}", "ms", reason)
            for e in ENDPOINTS
            for what in ("req/s", "p95")
        ]
    seconds = int(os.environ.get("BENCH_DURATION", "5"))
    workers = int(os.environ.get("BENCH_WORKERS", "3"))
    heavy = Account.objects.get(pk=HEAVY_ACCOUNT_ID)
    lead = User.objects.leads().filter(team_id=heavy.team_id).first()
    if lead is None:
        raise SystemExit("the benchmark data has no lead in the heaviest team: run make bench-data")
    team_accounts = list(
        Account.objects.active().filter(team_id=heavy.team_id).values_list("id", flat=True)
    )
    now = timezone.now()
    times = {
        "RELCRM_OCCURRED_AT": (now - timedelta(hours=1)).isoformat(),
        "RELCRM_FIRST_DUE": (now + timedelta(days=3)).isoformat(),
        "RELCRM_SECOND_DUE": (now + timedelta(days=7)).isoformat(),
    }
    post_body = {
        "account": team_accounts[-1],
        "kind": "call",
        "direction": "outbound",
        "occurred_at": times["RELCRM_OCCURRED_AT"],
        "summary": "Benchmark call about the renewal",
        "sentiment": 0,
        "promises": [
            {"description": "Send the revised quote", "due_at": times["RELCRM_FIRST_DUE"]},
            {"description": "Call back", "due_at": times["RELCRM_SECOND_DUE"]},
        ],
    }
    token_row, token = ApiToken.issue(lead, name="benchmark")
    figures = []
    health = TeamHealth(heavy.team_id)
    try:
        health.fill()
        with Server(workers) as server:
            bench.log(
                f"api: gunicorn with {workers} workers on {server.base_url}; wrk -c{CONCURRENCY} "
                f"-d{seconds}s; as {lead.username} ({len(team_accounts):,} accounts in the team)"
            )
            load = Load(server, token, seconds, times, team_accounts, post_body)
            for endpoint in ENDPOINTS:
                figures += _measure(bench, load, endpoint)
    finally:
        health.clear()
        token_row.delete()
    return figures


def _measure(bench: Bench, load: Load, endpoint: Endpoint) -> list[Figure]:
    server, seconds = load.server, load.seconds
    env = {"RELCRM_TOKEN": load.token}
    posted = None
    if endpoint.post:
        env |= {"RELCRM_POST_ACCOUNTS": ",".join(map(str, load.team_accounts)), **load.times}
        posted = PostedRows(load.team_accounts)
    difference = _check_same_json(server, endpoint, load.token, load.post_body)
    bench.log(f"api: {endpoint.name}")
    api_runs, bare_runs = [], []
    try:
        for url in (endpoint.api, endpoint.bare):
            _wrk(server.base_url + url, 2, env)  # warm up every worker
        for _ in range(bench.runs):
            api_runs.append(_wrk(server.base_url + endpoint.api, seconds, env))
            bare_runs.append(_wrk(server.base_url + endpoint.bare, seconds, env))
            if posted:
                posted.remove()
    finally:
        if posted:
            posted.remove()
    errors = sum(run.errors for run in api_runs + bare_runs)
    requests = sum(run.requests for run in api_runs)
    note = f"{requests:,} API requests over {len(api_runs)} runs; floor: bare view"
    if errors:
        note += f"; {errors:,} errors or non-2xx answers"
    if difference:
        note += f"; the bare JSON differs: {difference}"
    figures = _figures(endpoint, api_runs, bare_runs, note)
    if errors:
        figures[0].skipped = f"{errors:,} failed requests"
    return figures

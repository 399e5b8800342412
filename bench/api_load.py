"""API throughput: GET /api/status and /api/messages?limit=50 vs a bare Starlette app, same
uvicorn settings, same load generator."""

import os
import subprocess
import sys

import httpx

from bench.broadcast import envelopes
from bench.env import BenchEnv
from bench.rows import Row, ratio
from bench.wrk import run_wrk
from node.runtime.ports import free_port
from tests.support.processes import ROOT, wait_until


def _bare_app() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=20, what="the bare app")
    return process, url


def api_rows(env: BenchEnv, quick: bool) -> list[Row]:
    seconds = 3 if quick else 8
    daemon = env.daemon()
    node = env.node(daemon.api_multiaddr, name="api")
    for envelope in envelopes(60, "api"):
        assert node.post("/api/broadcast", json=envelope).status_code == 200
    process, bare_url = _bare_app()
    try:
        run_wrk(bare_url + "/", 1)
        bare = run_wrk(bare_url + "/", seconds)
        status = run_wrk(node.url + "/api/status", seconds)
        messages = run_wrk(node.url + "/api/messages?limit=50", seconds)
    finally:
        process.terminate()
        process.wait(timeout=10)
    rows = []
    for name, result, goal in (("API status", status, 0.5), ("API messages", messages, 0.3)):
        r = ratio(result.requests_per_second, bare.requests_per_second)
        rows.append(
            Row(
                row=name,
                node=round(result.requests_per_second),
                baseline=round(bare.requests_per_second),
                ratio=r,
                unit="req/s",
                goal=f"ratio >= {goal}",
                holds=r is not None and r >= goal and result.non_2xx == 0,
                note=f"wrk 32 connections {seconds}s; node p50/p99 {result.p50_ms:.1f}/"
                f"{result.p99_ms:.1f} ms (bare {bare.p50_ms:.1f}/{bare.p99_ms:.1f} ms)",
            )
        )
    return rows

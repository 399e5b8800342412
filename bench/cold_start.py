"""Lambda cold start: time from a fresh interpreter to the first answered ``/api/status``, i.e.
``import handler`` (app, services, SSM key, boto3 client) plus one API Gateway v2 event through
Mangum, against bare Starlette+Mangum apps measured in the same run.

The node runs as on Lambda (STORE=dynamodb with the key in SSM, a moto server standing in for
AWS, a js-ipfs daemon). ``python -m bench.cold_start [--quick]`` prints the table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.5

# Each child measures from before its first import to the answered request.
NODE = """
import json, sys, time
t0 = time.perf_counter()
import handler
response = handler.handler(json.loads(sys.argv[1]), None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - t0)
"""
BARE = """
import json, sys, time
t0 = time.perf_counter()
from mangum import Mangum
from bench.bare_app import app
response = Mangum(app, lifespan="off")(json.loads(sys.argv[1]), None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - t0)
"""
BARE_BOTO3 = """
import json, os, sys, time
t0 = time.perf_counter()
import boto3
from mangum import Mangum
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
db = boto3.client("dynamodb")

async def status(request):
    item = db.get_item(TableName=os.environ["DYNAMODB_TABLE"], Key={"pk": {"S": "counter#all"}})
    return JSONResponse({"count": len(item.get("Item", {}))})

app = Starlette(routes=[Route("/", status)])
response = Mangum(app, lifespan="off")(json.loads(sys.argv[1]), None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - t0)
"""


def _time_child(code: str, event: dict[str, Any], env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(event)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cold-start child failed: {result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def _row(name: str, node: float, baseline: float) -> dict[str, Any]:
    ratio = round(node / baseline, 3)
    return {
        "row": name,
        "node": round(node * 1000, 1),
        "baseline": round(baseline * 1000, 1),
        "ratio": ratio,
        "unit": "ms (median)",
        "goal": f"≤ {GOAL}×",
        "holds": ratio <= GOAL,
    }


def cold_start_rows(quick: bool) -> list[dict[str, Any]]:
    """Median over N fresh processes of each kind, interleaved so that machine noise hits all
    three alike; one row against each baseline."""
    import boto3

    from crypto import NodeKey
    from node.runtime.daemons import local_daemon
    from storage.dynamodb.table import create_table
    from tests.serverless.events import http_event
    from tests.support.moto import MotoServer

    runs = 3 if quick else 9
    with tempfile.TemporaryDirectory(prefix="onusone-coldstart-") as tmp:
        moto = MotoServer(Path(tmp) / "moto.log")
        daemon = local_daemon(Path(tmp) / "ipfs")
        saved = dict(os.environ)
        try:
            moto.start()
            daemon.start()
            os.environ.update(moto.aws_env())
            table, param = f"coldstart-{uuid.uuid4().hex[:8]}", "/onusone-node/bench/node-key"
            create_table(table)
            seed = NodeKey.generate().seed_base64()
            boto3.client("ssm").put_parameter(
                Name=param, Value=seed, Type="SecureString", Overwrite=True
            )
            env = {
                **os.environ,
                "STORE": "dynamodb",
                "DYNAMODB_TABLE": table,
                "NODE_KEY_SSM_PARAM": param,
                "IPFS_API": daemon.api_multiaddr,
            }
            times: dict[str, list[float]] = {"node": [], "bare": [], "boto3": []}
            for _ in range(runs):
                times["node"].append(_time_child(NODE, http_event("GET", "/api/status"), env))
                times["bare"].append(_time_child(BARE, http_event("GET", "/"), env))
                times["boto3"].append(_time_child(BARE_BOTO3, http_event("GET", "/"), env))
        finally:
            os.environ.clear()
            os.environ.update(saved)
            daemon.stop()
            moto.stop()
    node, bare, with_boto3 = (statistics.median(times[k]) for k in ("node", "bare", "boto3"))
    return [
        _row("cold start: import handler + first /api/status vs Starlette+Mangum", node, bare),
        _row("cold start vs Starlette+Mangum+boto3 DynamoDB GetItem", node, with_boto3),
    ]


def main() -> None:
    from bench.rows import Row, format_table

    parser = argparse.ArgumentParser(prog="python -m bench.cold_start")
    parser.add_argument("--quick", action="store_true", help="3 runs of each instead of 9")
    rows = cold_start_rows(parser.parse_args().quick)
    print(format_table([Row(**row) for row in rows]))


if __name__ == "__main__":
    main()

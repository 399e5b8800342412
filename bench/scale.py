"""Index scale: GET /api/messages p99 with 10k, 100k and 1M messages in SQLite, and RSS."""

from pathlib import Path

from bench.env import BenchEnv
from bench.rows import Row
from bench.wrk import run_wrk
from crypto import canonical_bytes, cid_for_bytes
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore

BATCH = 10_000


def fill(path: Path, start: int, stop: int) -> None:
    """Synthetic envelopes (the index stores, it does not verify), written in batches."""
    store = SqliteStore(path)
    base_ts = 1_700_000_000_000
    for first in range(start, stop, BATCH):
        batch = []
        for i in range(first, min(stop, first + BATCH)):
            envelope = {
                "v": 1,
                "type": "message",
                "board": "general",
                "content": f"message {i}",
                "author": "bench",
                "ts": base_ts + i,
                "pubkey": "00" * 32,
                "sig": "00" * 64,
            }
            cid = str(cid_for_bytes(canonical_bytes(envelope)))
            batch.append(NewMessage(cid, envelope, "bench", base_ts + i))
        store.messages.add(batch)
    store.close()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def scale_rows(env: BenchEnv, quick: bool) -> list[Row]:
    sizes = [10_000, 30_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    daemon = env.daemon()
    data_dir = env.root / "scale"
    filled = 0
    p99s: list[float] = []
    rss = 0.0
    for size in sizes:
        fill(data_dir / "index.sqlite3", filled, size)
        filled = size
        node = env.node(daemon.api_multiaddr, name="scale")
        run_wrk(node.url + "/api/messages?limit=50", 1, connections=8)
        result = run_wrk(node.url + "/api/messages?limit=50", 3 if quick else 5, connections=8)
        p99s.append(result.p99_ms)
        rss = _rss_mb(node.process.pid)
        node.stop()
    growth = p99s[-1] / p99s[0] if p99s[0] else None
    label = {10_000: "10k", 30_000: "30k", 100_000: "100k", 1_000_000: "1M"}
    return [
        Row(
            row=f"scale p99 {label[sizes[0]]}→{label[sizes[-1]]}",
            node=round(p99s[-1], 2),
            baseline=round(p99s[0], 2),
            ratio=round(growth, 2) if growth else None,
            unit="ms",
            goal="<= 2x",
            holds=growth is not None and growth <= 2,
            note="GET /api/messages?limit=50 p99 by size: "
            + ", ".join(f"{label[s]} {p:.1f} ms" for s, p in zip(sizes, p99s, strict=True)),
        ),
        Row(
            row=f"scale RSS at {label[sizes[-1]]}",
            node=round(rss, 1),
            baseline=None,
            unit="MB",
            goal="<= 200 MB",
            holds=rss <= 200,
        ),
    ]

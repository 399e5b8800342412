"""The real Serverless Framework v3 CLI from the repository's npm lock, run without telemetry,
update notifications or AWS credentials of the machine, on a copy of the checkout (the CLI and
its plugin work in ``.serverless/`` of the service, which concurrent runs would share)."""

import shutil
import subprocess
from pathlib import Path

from tests.support.processes import clean_env

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS = ROOT / "node_modules" / ".bin" / "serverless"
# invoke local runs a local interpreter of the runtime's version: this one (the venv's).
RUNTIME_PARAMS = ["--param=python=3.11", "--param=ipfsApi=http://127.0.0.1:1"]


# Large or machine-local folders are linked, not copied; everything else is copied as it is,
# tests/, bench/ and jsipfs/ included, so that packaging has to leave them out itself.
LINKED = ("node_modules", ".lambda-wheels", ".venv")
SKIPPED = (".git", ".serverless", "__pycache__", ".pytest_cache", ".ruff_cache", "data")


def copy_service(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, symlinks=True, ignore=shutil.ignore_patterns(*LINKED, *SKIPPED))
    for name in LINKED:
        (dest / name).symlink_to(ROOT / name, target_is_directory=True)
    return dest


def serverless(
    service: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> str:
    """Run ``serverless ARGS`` in ``service``; returns stdout, raises with the output."""
    assert SERVERLESS.exists(), f"{SERVERLESS} is missing: run `scripts/setup.sh dev`"
    full_env = clean_env(
        {
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "VIRTUAL_ENV": str(ROOT / ".venv"),
            **(env or {}),
        }
    )
    result = subprocess.run(
        [str(SERVERLESS), *args],
        cwd=service,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"serverless {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout

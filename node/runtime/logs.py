"""Logging for ``serve`` and for Lambda: ``LOG_LEVEL`` (INFO), ``LOG_FORMAT`` (text or json, one
object per line for log collectors), and quiet libraries: httpx logs every daemon RPC at INFO
(the status loop alone asks every second), uvicorn one line per request."""

import json
import logging
import sys

QUIET = ("httpx", "httpcore", "uvicorn.access", "botocore", "urllib3")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Replace whatever handlers are installed (Lambda's runtime puts one on the root logger at
    WARNING, which would drop the node's INFO lines)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)  # library warnings in the same format, not raw stderr
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)

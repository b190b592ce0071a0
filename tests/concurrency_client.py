"""A dashboard-like client for the concurrency test: reads the published warehouse and writes
edits in a loop until a stop file appears, then prints what it did as JSON."""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from warehouse.db import read_frame, save_edit
from warehouse.settings import load_settings


def main(config: str, stop_file: str, prefix: str) -> None:
    settings = load_settings(config)
    reads = writes = 0
    errors: list[str] = []
    written: list[str] = []
    deadline = time.monotonic() + 600
    while not Path(stop_file).exists() and time.monotonic() < deadline:
        try:
            frame = read_frame(settings, "SELECT count(*) AS n FROM tasks")
            assert frame["n"][0] >= 0
            reads += 1
            risk_id = f"{prefix}-{writes}"
            save_edit(settings, "risks", {
                "risk_id": risk_id, "title": f"并发 risk {writes}", "probability": 1 + writes % 5,
                "impact": 1 + (writes * 3) % 5, "score": (1 + writes % 5) * (1 + (writes * 3) % 5),
                "status": "open", "linked_task_ids": ["demo:ERP-1"],
            }, actor="concurrency-test")
            written.append(risk_id)
            writes += 1
        except Exception:
            errors.append(traceback.format_exc())
        time.sleep(0.02)
    print(json.dumps({"reads": reads, "writes": writes, "errors": errors, "written": written}))


if __name__ == "__main__":
    main(*sys.argv[1:4])

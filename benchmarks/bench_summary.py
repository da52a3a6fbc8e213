"""Cost of the typed run summary: validating a run folder's summary.json as a RunSummary and
writing it back (the work ``townsim run`` and every reader add over an untyped dict).

Usage: python benchmarks/bench_summary.py RUN_FOLDER [--repeat 20]
Prints the median milliseconds of each step and the file size as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.results.summary_model import RunSummary, summary_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    text = (args.run / "summary.json").read_text(encoding="utf-8")
    data = json.loads(text)
    validate, write = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        summary = RunSummary.model_validate(data)
        t1 = time.perf_counter()
        out = summary_json(summary)
        write.append(time.perf_counter() - t1)
        validate.append(t1 - t0)
    assert out == text, "summary.json does not round-trip byte for byte"
    print(
        json.dumps(
            {
                "bytes": len(text.encode("utf-8")),
                "validate_ms": round(1000 * statistics.median(validate), 2),
                "write_ms": round(1000 * statistics.median(write), 2),
            }
        )
    )


if __name__ == "__main__":
    main()

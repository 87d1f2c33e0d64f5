"""Shared plumbing of lmtrain's peer benchmark scripts (scripts/bench/torch_*.py).

Protocol (driven by `lmtrain bench SUITE`, which is the source of truth for every case):
  stdin (or --spec FILE)  one JSON object: the suite's cases and settings
  stdout                  one JSON object {"peer": "<what ran>", "results": {"<case>": <number>, ...}}
  exit status             0 ok; 3 the peer cannot run here (torch missing, no CUDA device), with one
                          line on stderr saying why; anything else is a failure (traceback on stderr)
Progress and warnings go to stderr only.
"""
import argparse
import json
import statistics
import sys
import time

UNAVAILABLE = 3


def unavailable(reason):
    """Exits with the 'peer cannot run here' status and one clear line."""
    print(reason, file=sys.stderr)
    sys.exit(UNAVAILABLE)


def import_torch():
    try:
        import torch
    except ImportError as e:
        unavailable(f"PyTorch is not installed for {sys.executable} ({e}); install it (pip install torch, or "
                    f"apt-get install python3-torch) or point LMTRAIN_PYTHON at a Python that has it")
    return torch


def read_spec(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--spec", help="the suite's JSON spec (default: read from stdin)")
    args = parser.parse_args()
    text = open(args.spec).read() if args.spec else sys.stdin.read()
    return json.loads(text)


def median_seconds(fn, warmup, repetitions, sync=lambda: None):
    """Median wall time of fn() over `repetitions` runs after `warmup` untimed runs; sync() ends each run."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def emit(peer, results):
    json.dump({"peer": peer, "results": results}, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def log(message):
    print(message, file=sys.stderr, flush=True)

"""Runs a chain and a chord on Celery with cairn as broker and result backend.

Usage: python3 celery_run.py host:port. Starts a worker process and prints "all ok".
"""
import os
import subprocess
import sys

os.environ["CAIRN_ADDR"] = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from celery import chain, chord  # noqa: E402

from celery_tasks import add, tsum  # noqa: E402

worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "--pool=solo", "--loglevel=WARNING",
     "--without-heartbeat", "--without-mingle", "--without-gossip"],
    cwd=os.path.dirname(os.path.abspath(__file__)))
try:
    r = chain(add.s(1, 2), add.s(3), add.s(4))()
    assert r.get(timeout=60) == 10, "chain"
    c = chord(add.s(i, i) for i in range(10))(tsum.s())
    assert c.get(timeout=60) == 90, "chord"
    print("all ok")
finally:
    worker.terminate()
    worker.wait(timeout=30)

"""Celery tasks with cairn as broker and result backend (the address in CAIRN_ADDR)."""
import os

from celery import Celery

url = "redis://%s/0" % os.environ["CAIRN_ADDR"]
app = Celery("celery_tasks", broker=url, backend=url)
app.conf.update(broker_connection_retry_on_startup=True, result_expires=600)


@app.task
def add(x, y):
    return x + y


@app.task
def tsum(values):
    return sum(values)

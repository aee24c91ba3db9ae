"""redis-py's Lock (Lua scripts for release, extend and reacquire) against a server.

Usage: python3 lock.py host:port [cluster]. Prints "all ok" on success.
"""
import sys
import threading

import redis
from redis.exceptions import LockError, LockNotOwnedError

host, port = sys.argv[1].split(":")
if len(sys.argv) > 2 and sys.argv[2] == "cluster":
    from redis.cluster import RedisCluster

    r = RedisCluster(host=host, port=int(port))
else:
    r = redis.Redis(host=host, port=int(port))

name = "lock:resource"
r.delete(name)
lock = r.lock(name, timeout=5)
assert lock.acquire(blocking=False), "first acquire"
assert not r.lock(name, timeout=5).acquire(blocking=False), "a second owner acquired a held lock"
assert lock.locked() and lock.owned()
assert lock.extend(10), "extend"
ttl = r.pttl(name)
assert 10000 < ttl <= 15000, "ttl after extend: %d" % ttl
assert lock.extend(3, replace_ttl=True)
ttl = r.pttl(name)
assert 0 < ttl <= 3000, "ttl after extend with replace_ttl: %d" % ttl
assert lock.reacquire()
assert 3000 < r.pttl(name) <= 5000
intruder = r.lock(name, timeout=5)
intruder.local.token = b"not-the-owner"
try:
    intruder.release()
    raise AssertionError("a non-owner released the lock")
except LockNotOwnedError:
    pass
lock.release()
assert not lock.locked()
try:
    lock.release()
    raise AssertionError("released twice")
except LockError:
    pass

# Contention: threads incrementing a counter under the lock never lose an update.
r.set("lock:counter", 0)


def work():
    for _ in range(20):
        with r.lock(name, timeout=5, blocking_timeout=30, sleep=0.005):
            v = int(r.get("lock:counter"))
            r.set("lock:counter", v + 1)


threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert int(r.get("lock:counter")) == 80, r.get("lock:counter")
print("all ok")

#!/usr/bin/env bash
# Memory per idle client connection of cairn and of a real redis-server, side by side: opens N
# connections that each send one PING, waits, and reports the server's resident memory growth.
# usage: bench/conn-memory/run.sh [--bin PATH] [-n CONNECTIONS]   (default 10000; the process limit here is 20000 files)
set -euo pipefail
bin="" n=10000
while [ $# -gt 0 ]; do case "$1" in --bin) bin=$2; shift 2;; -n) n=$2; shift 2;; *) echo "unknown argument: $1" >&2; exit 2;; esac; done
command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >/dev/null
work=$(mktemp -d)
if [ -z "$bin" ]; then go build -o "$work/cairn" ./cmd/cairn; bin="$work/cairn"; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat > "$work/open.py" <<'PY'
import socket, sys, time, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"): return int(l.split()[1])
time.sleep(0.5); before = rss(); socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"PING\r\n"); socks.append(s)
for s in socks: s.recv(64)
time.sleep(2); after = rss()
print(f"{(after-before)*1024/n:.0f} bytes per connection ({n} connections, RSS {before} KB -> {after} KB)")
PY
cport=$(free_port); rport=$(free_port); mkdir -p "$work/data" "$work/rdata"
"$bin" server --port "$cport" --bind 127.0.0.1 --dir "$work/data" >"$work/cairn.log" 2>&1 & cpid=$!
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work/rdata" --save "" --maxclients $((n+100)) >"$work/redis.log" 2>&1 & rpid=$!
trap 'kill $cpid $rpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep 1
printf 'cairn: '; python3 "$work/open.py" "$cport" "$n" "$cpid"
printf 'redis: '; python3 "$work/open.py" "$rport" "$n" "$rpid"

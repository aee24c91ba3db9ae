#!/bin/sh
# Pub/sub fan-out, cairn beside redis-server on this machine: one publisher, SUBS subscribers.
# Usage: bench/pubsub/run.sh [subs] [msgs]   (run from the repository root, on a quiet machine)
set -eu
SUBS=${1:-100}
MSGS=${2:-20000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
CPORT=$(free_port)
cleanup() {
	[ -f "$TMP/redis.pid" ] && kill "$(cat "$TMP/redis.pid")" 2>/dev/null || true
	[ -n "${CPID:-}" ] && kill "$CPID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
(cd "$ROOT" && go build -o "$TMP/cairn" ./cmd/cairn && go build -o "$TMP/pubsub" ./bench/pubsub)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
	--pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log" --dir "$TMP"
"$TMP/cairn" server --port "$CPORT" --bind 127.0.0.1 --dir "$TMP/cairn-data" >"$TMP/cairn.log" 2>&1 &
CPID=$!
for p in "$RPORT" "$CPORT"; do
	i=0
	until redis-cli -p "$p" ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "server on $p did not start"; exit 1; }
		sleep 0.1
	done
done
for pl in 1 32; do
	"$TMP/pubsub" -addr "127.0.0.1:$RPORT" -subs "$SUBS" -msgs "$MSGS" -pipeline "$pl" -name redis
	"$TMP/pubsub" -addr "127.0.0.1:$CPORT" -subs "$SUBS" -msgs "$MSGS" -pipeline "$pl" -name cairn
done

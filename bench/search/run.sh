#!/bin/sh
# Secondary indexes on one cairn server with its default settings: index build rate, HSET
# throughput on an indexed prefix against an unindexed one, FT.SEARCH latency of a tag lookup
# and a numeric range, KEYRANGE keys/s (see main.go).
# Usage: bench/search/run.sh [-n 100000] [other flags of main.go]   (from the repository root)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
CPID=
trap '[ -n "$CPID" ] && kill "$CPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
(cd "$ROOT" && go build -o "$TMP/cairn" ./cmd/cairn && go build -o "$TMP/search" ./bench/search)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TMP/cairn" --port "$PORT" --dir "$TMP/data" >"$TMP/cairn.log" 2>&1 &
CPID=$!
i=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "cairn did not start"; cat "$TMP/cairn.log"; exit 1; }
	sleep 0.1
done
"$TMP/search" -addr "127.0.0.1:$PORT" "$@"
echo "cairn peak RSS: $(grep VmHWM /proc/$CPID/status | awk '{print $2, $3}')"

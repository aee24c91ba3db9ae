#!/bin/sh
# Memory and latency under careless clients, cairn beside redis-server on this machine:
#   pipeline  one client pipelines 20,000 GETs of a 1 MB value and reads nothing for 15 s,
#             with client-output-buffer-limit normal 64mb 32mb 10
#   bigset    one 476 MiB SET, then three concurrent 381 MiB SETs (fresh servers each)
#   sort      SORT of a 1M-element list, SUNION of two 500k sets and KEYS over 1M keys while 50
#             clients on the same event loop send PING and GET (their p50/p99/max reported)
# Usage: bench/pressure/run.sh [pipeline|bigset|sort ...]   (from the repository root)
set -eu
MODES=${*:-pipeline bigset sort}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPID=
CPID=
stop_servers() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
	wait 2>/dev/null || true
	RPID= CPID=
	rm -rf "$TMP/cairn-data" "$TMP"/*.rdb
}
trap 'stop_servers; rm -rf "$TMP"' EXIT
(cd "$ROOT" && go build -o "$TMP/cairn" ./cmd/cairn && go build -o "$TMP/pressure" ./bench/pressure)
wait_up() {
	i=0
	until redis-cli -p "$1" ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "server on $1 did not start"; exit 1; }
		sleep 0.1
	done
}
# start_servers EXTRA-CONFIG...: one redis-server and one cairn (one event loop, so the probe
# shares the loop with the client under test), with the same extra configuration.
start_servers() {
	RPORT=$(free_port)
	CPORT=$(free_port)
	redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
		--proto-max-bulk-len 1gb "$@" >"$TMP/redis.log" 2>&1 &
	RPID=$!
	CAIRN_EVENT_LOOPS=1 "$TMP/cairn" server --port "$CPORT" --bind 127.0.0.1 --dir "$TMP/cairn-data" \
		--appendfsync everysec --proto-max-bulk-len 1gb "$@" >"$TMP/cairn.log" 2>&1 &
	CPID=$!
	wait_up "$RPORT"
	wait_up "$CPORT"
}
for m in $MODES; do
	case $m in
	pipeline)
		start_servers --client-output-buffer-limit "normal 64mb 32mb 10"
		"$TMP/pressure" -addr "127.0.0.1:$RPORT" -pid "$RPID" -mode pipeline -name redis
		"$TMP/pressure" -addr "127.0.0.1:$CPORT" -pid "$CPID" -mode pipeline -name cairn
		stop_servers
		;;
	bigset)
		for spec in "1 499122176" "3 399507456"; do
			set -- $spec
			start_servers
			"$TMP/pressure" -addr "127.0.0.1:$RPORT" -pid "$RPID" -mode bigset -clients "$1" -size "$2" -name redis
			"$TMP/pressure" -addr "127.0.0.1:$CPORT" -pid "$CPID" -mode bigset -clients "$1" -size "$2" -name cairn
			stop_servers
		done
		;;
	sort)
		start_servers
		"$TMP/pressure" -addr "127.0.0.1:$RPORT" -pid "$RPID" -mode sort -n 1000000 -name redis
		"$TMP/pressure" -addr "127.0.0.1:$CPORT" -pid "$CPID" -mode sort -n 1000000 -name cairn
		stop_servers
		;;
	*) echo "unknown mode $m"; exit 2 ;;
	esac
done

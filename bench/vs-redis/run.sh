#!/usr/bin/env bash
# Side-by-side throughput and latency of a cairn server and a real redis-server on this machine,
# measured with redis-benchmark, alternating the two servers round by round so that machine noise
# hits both alike. Prints one row per test and pipeline depth with the medians and the ratio cairn/redis.
#
# usage: bench/vs-redis/run.sh [--bin PATH] [--rounds R] [-n REQUESTS] [-c CLIENTS] [-P "1 16"] [-t "set,get"] [-d BYTES]
#   --bin PATH     cairn binary (default: go build ./cmd/cairn from the current directory)
#   --redis-args   extra redis-server arguments (default: AOF with appendfsync everysec, no RDB:
#                  the same durability as cairn's default)
#   --cairn-args   extra cairn server arguments
# needs: redis-server and redis-benchmark (installed with apt-get if missing).
set -euo pipefail
bin="" rounds=3 n=200000 c=50 pipes="1 16" tests="set,get" size=3
redis_args="--appendonly yes --appendfsync everysec --save \"\""
cairn_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2;; --rounds) rounds=$2; shift 2;; -n) n=$2; shift 2;; -c) c=$2; shift 2;;
    -P) pipes=$2; shift 2;; -t) tests=$2; shift 2;; -d) size=$2; shift 2;;
    --redis-args) redis_args=$2; shift 2;; --cairn-args) cairn_args=$2; shift 2;;
    *) echo "unknown argument: $1" >&2; exit 2;;
  esac
done
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >/dev/null
fi
work=$(mktemp -d)
if [ -z "$bin" ]; then go build -o "$work/cairn" ./cmd/cairn; bin="$work/cairn"; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port); cport=$(free_port)
mkdir -p "$work/redis" "$work/cairn-data"
eval "exec redis-server --port $rport --bind 127.0.0.1 --dir $work/redis --daemonize no $redis_args" >"$work/redis.log" 2>&1 &
rpid=$!
eval "exec \"$bin\" server --port $cport --bind 127.0.0.1 --dir $work/cairn-data $cairn_args" >"$work/cairn.log" 2>&1 &
cpid=$!
trap 'kill $rpid $cpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for p in $rport $cport; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "server on port $p did not answer PING; logs:"; tail -20 "$work"/*.log; exit 1; }
done
bench() { # port pipeline -> csv rows: test,rps,p50,p99
  redis-benchmark -p "$1" -t "$tests" -n "$n" -r 1000000 -c "$c" -P "$2" -d "$size" --csv 2>/dev/null |
    tail -n +2 | tr -d '"' | awk -F, '{print $1","$2","$5","$7}'
}
printf '%-8s %3s %12s %12s %7s %9s %9s %9s %9s\n' test P cairn_rps redis_rps ratio cairn_p50 redis_p50 cairn_p99 redis_p99
for P in $pipes; do
  : > "$work/c.csv"; : > "$work/r.csv"
  for r in $(seq "$rounds"); do bench "$rport" "$P" >> "$work/r.csv"; bench "$cport" "$P" >> "$work/c.csv"; done
  while IFS= read -r t; do # test names may hold spaces ("MSET (10 keys)")
    med() { awk -F, -v t="$t" -v f="$2" '$1 == t {print $f}' "$1" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
    cr=$(med "$work/c.csv" 2); rr=$(med "$work/r.csv" 2)
    printf '%-8s %3s %12s %12s %7.2f %9s %9s %9s %9s\n' "$t" "$P" "${cr:-0}" "$rr" "$(awk -v a="${cr:-0}" -v b="$rr" 'BEGIN{print (b>0)?a/b:0}')" \
      "$(med "$work/c.csv" 3)" "$(med "$work/r.csv" 3)" "$(med "$work/c.csv" 4)" "$(med "$work/r.csv" 4)"
  done < <(cut -d, -f1 "$work/r.csv" | sort -u)
done

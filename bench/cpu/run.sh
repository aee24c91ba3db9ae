#!/usr/bin/env bash
# CPU time the server process spends per request (user + system, from /proc/PID/stat), for cairn
# binaries and a real redis-server on this machine, measured with redis-benchmark, the servers
# alternating round by round. Throughput on a shared machine moves with its neighbours; the CPU a
# server spends per request moves much less, so this is the figure to compare two builds by.
#
# usage: bench/cpu/run.sh [--bin PATH]... [--rounds R] [-n REQUESTS] [-c CLIENTS] [-P "1 16 64"]
#                         [-t "set,get"] [--no-redis] [--cairn-args ARGS] [--redis-args ARGS]
#   --bin PATH   a cairn binary to measure (repeat to compare builds; default: go build ./cmd/cairn)
# prints one row per server, test and depth: the median CPU µs per request, requests/s and, for
# cairn, heap allocations per request (go_memstats_mallocs_total from its metrics endpoint).
set -euo pipefail
bins=() rounds=3 n=300000 c=50 pipes="1 16 64" tests="set,get" redis=1
redis_args="--appendonly yes --appendfsync everysec --save \"\""
cairn_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bins+=("$2"); shift 2;; --rounds) rounds=$2; shift 2;; -n) n=$2; shift 2;; -c) c=$2; shift 2;;
    -P) pipes=$2; shift 2;; -t) tests=$2; shift 2;; --no-redis) redis=0; shift;;
    --cairn-args) cairn_args=$2; shift 2;; --redis-args) redis_args=$2; shift 2;;
    *) echo "unknown argument: $1" >&2; exit 2;;
  esac
done
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >/dev/null
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
if [ ${#bins[@]} -eq 0 ]; then go build -o "$work/cairn" ./cmd/cairn; bins=("$work/cairn"); fi
servers=()
for i in "${!bins[@]}"; do servers+=("cairn$i"); done
[ "$redis" = 1 ] && servers+=(redis)
tck=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) mport=$(free_port)
start() { # server -> pid
  rm -rf "$work/data"; mkdir -p "$work/data"
  if [ "$1" = redis ]; then
    eval "exec redis-server --port $port --bind 127.0.0.1 --dir $work/data --daemonize no $redis_args" >"$work/log" 2>&1 &
  else
    eval "exec \"${bins[${1#cairn}]}\" server --port $port --bind 127.0.0.1 --dir $work/data --metrics-addr 127.0.0.1:$mport $cairn_args" >"$work/log" 2>&1 &
  fi
  local pid=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if ! kill -0 "$pid" 2>/dev/null; then echo "$1 did not start:" >&2; tail -5 "$work/log" >&2; exit 1; fi
  echo $pid
}
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
mallocs() { # server -> heap allocations so far (0 for redis)
  if [ "$1" = redis ]; then echo 0; return; fi
  curl -s "127.0.0.1:$mport/metrics" | awk '$1 == "go_memstats_mallocs_total" {printf "%.0f", $2}'
}
: > "$work/rows"
total=$(( rounds * $(wc -w <<<"$pipes") * $(tr ',' ' ' <<<"$tests" | wc -w) * ${#servers[@]} )); done_runs=0
for r in $(seq "$rounds"); do
  for P in $pipes; do
    for t in $(tr ',' ' ' <<<"$tests"); do
      for srv in "${servers[@]}"; do
        pid=$(start "$srv")
        # Reads need keys: load the keyspace first (not counted).
        case "$t" in get|mget|lrange*) redis-benchmark -p "$port" -t "${t/get/set}" -n 200000 -r 100000 -P 16 -q >/dev/null 2>&1 || true;; esac
        c0=$(cpu "$pid") m0=$(mallocs "$srv")
        rps=$(redis-benchmark -p "$port" -t "$t" -n "$n" -r 100000 -c "$c" -P "$P" --csv 2>/dev/null | tail -n 1 | tr -d '"' | cut -d, -f2)
        c1=$(cpu "$pid") m1=$(mallocs "$srv")
        # The server ran in start's subshell, so it is no child to wait for: poll until it is
        # gone, or the next server would find the port taken.
        kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
        echo "$srv,$t,$P,$(awk -v a="$c0" -v b="$c1" -v t="$tck" -v n="$n" 'BEGIN{printf "%.2f", (b-a)/t*1e6/n}'),$rps,$(awk -v a="$m0" -v b="$m1" -v n="$n" 'BEGIN{printf "%.2f", (b-a)/n}')" >> "$work/rows"
        done_runs=$((done_runs+1)); printf '\r%d/%d runs' "$done_runs" "$total" >&2
      done
    done
  done
done
echo >&2
printf '%-8s %-6s %3s %14s %12s %14s\n' server test P cpu_us_per_req req_per_s allocs_per_req
for srv in "${servers[@]}"; do
  for t in $(tr ',' ' ' <<<"$tests"); do
    for P in $pipes; do
      med() { grep "^$srv,$t,$P," "$work/rows" | cut -d, -f"$1" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
      allocs=$(med 6); [ "$srv" = redis ] && allocs=-
      printf '%-8s %-6s %3s %14s %12s %14s\n' "$srv" "$t" "$P" "$(med 4)" "$(med 5)" "$allocs"
    done
  done
done
for i in "${!bins[@]}"; do echo "cairn$i = ${bins[$i]}"; done

#!/usr/bin/env bash
# How a cairn cluster's cost per write scales with its size, and what idle shards cost.
#
#   bash bench/scale/run.sh [requests] [clients] [pipeline]
#                                   (defaults: 200000 SETs per configuration, 50 clients, depth 1)
#
# Part 1: for clusters of 1, 3 and 6 nodes (four shards per node, three replicas — fewer on one
# node), and for three nodes with 12 and with 96 shards, the same client load — redis-benchmark
# --cluster (50 clients at depth 1 by default), SET of 16-byte values over a million keys — and, for each, writes per
# second and the CPU-seconds all cairn processes spent per million writes (from /proc). On one
# machine the total cannot grow with the nodes (they share its cores and disk); what must hold
# is that the cost per write does not grow with the node or shard count.
#
# Then a control row, "2x3": two independent three-node clusters at once (see below).
#
# Part 2: three nodes holding 1,000 shards each (replicated three ways), left idle once every
# shard has a leader: the CPU each node uses, in % of one core, over 30 s.
#
# SCALE_IDLE=no skips part 2.
#
# Needs redis-benchmark and redis-cli (apt-get install redis-tools). Run it on an idle machine.
set -euo pipefail
requests=${1:-200000}
clients=${2:-50}
pipeline=${3:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
(cd "$root" && go build -o "$work/cairn" ./cmd/cairn)
hz=$(getconf CLK_TCK)

start() { # nodes shards base
  local n=$1 shards=$2 base=$3 list="" i
  for i in $(seq 0 $((n - 1))); do list+="127.0.0.1:$((base + i)),"; done
  list=${list%,}
  for i in $(seq 0 $((n - 1))); do
    "$work/cairn" server --port $((base + i)) --dir "$work/data-$base-$i" --cluster-enabled yes \
      --cluster-initial "$list" --cluster-shards "$shards" --cluster-replicas 3 \
      --logfile "$work/node-$base-$i.log" >/dev/null 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 600); do
    local ok=0
    for i in $(seq 0 $((n - 1))); do
      redis-cli -p $((base + i)) cluster info 2>/dev/null | grep -q 'cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" = "$n" ] && return 0
    sleep 0.2
  done
  echo "cluster of $n nodes did not come up" >&2; exit 1
}

cpu() { # total CPU seconds of the running nodes
  local t=0 p
  for p in "${pids[@]}"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}

stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

echo "# writes: $requests SETs per configuration, redis-benchmark --cluster -c $clients -P $pipeline -d 16 -r 1000000"
printf '%-6s %-7s %-9s %12s %10s %18s\n' nodes shards replicas writes/s p50_ms cpu_s_per_M_writes
base=21000
for cfg in "1 4" "3 12" "6 24" "3 96"; do
  set -- $cfg
  start "$1" "$2" $base
  sleep 3 # leaders settle on their preferred nodes
  before=$(cpu)
  mode=--cluster
  [ "$1" = 1 ] && mode="" # redis-benchmark's cluster mode wants several masters; one node owns every slot
  line=$(redis-benchmark $mode -p $base -t set -n "$requests" -c "$clients" -P "$pipeline" -d 16 -r 1000000 --csv 2>/dev/null | tail -1 | tr -d '"')
  after=$(cpu)
  rps=$(echo "$line" | cut -d, -f2)
  p50=$(echo "$line" | cut -d, -f5)
  cpus=$(awk -v d=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", d / hz / n * 1e6 }')
  printf '%-6s %-7s %-9s %12s %10s %18s\n' "$1" "$2" "$(( $1 < 3 ? $1 : 3 ))" "$rps" "$p50" "$cpus"
  stop
  base=$((base + 100))
done

# The control: two independent three-node clusters on this machine at once, each driven by its
# own redis-benchmark with half the requests and half the clients. Six processes share the
# cores as in the six-node row, but no node talks to more than two others: if this row costs
# as much per write as the six-node one, the growth from three to six nodes comes from the
# machine (more processes on the same cores), not from the cluster's size.
start 3 12 $base
start 3 12 $((base + 50))
sleep 3
before=$(cpu)
t0=$(date +%s.%N)
redis-benchmark --cluster -p $base -t set -n $((requests / 2)) -c $((clients / 2)) -P "$pipeline" -d 16 -r 1000000 --csv >"$work/a.csv" 2>/dev/null &
w1=$!
redis-benchmark --cluster -p $((base + 50)) -t set -n $((requests / 2)) -c $((clients / 2)) -P "$pipeline" -d 16 -r 1000000 --csv >"$work/b.csv" 2>/dev/null &
w2=$!
wait $w1 $w2
t1=$(date +%s.%N)
after=$(cpu)
p50=$(tail -1 "$work/a.csv" | tr -d '"' | cut -d, -f5)
awk -v d=$((after - before)) -v hz="$hz" -v n="$requests" -v t0="$t0" -v t1="$t1" -v p50="$p50" \
  'BEGIN { printf "%-6s %-7s %-9s %12.2f %10s %18.1f\n", "2x3", "2x12", 3, n / (t1 - t0), p50, d / hz / n * 1e6 }'
stop
base=$((base + 100))

[ "${SCALE_IDLE:-yes}" = no ] && exit 0
echo
echo "# idle: 3 nodes, 1000 shards of 3 replicas (1000 replicas per node)"
start 3 1000 $base
sleep 30 # every shard elects its leader, then goes quiet
for i in 0 1 2; do
  p=${pids[$i]}
  a=$(awk '{print $14 + $15}' "/proc/$p/stat")
  sleep 30
  b=$(awk '{print $14 + $15}' "/proc/$p/stat")
  awk -v d=$((b - a)) -v hz="$hz" -v i=$((i + 1)) 'BEGIN { printf "node %d: %.1f%% of a core over 30 s\n", i, d / hz / 30 * 100 }'
done

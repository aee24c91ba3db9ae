#!/bin/bash
# Compares write throughput and latency of a three-node cairn cluster and a three-node etcd
# cluster on this machine, both fsyncing their logs on commit (etcd's default; cairn's Raft log
# always), at 50 and 500 clients. Like etcd, cairn runs one Raft group here (--cluster-shards 1):
# the comparison is of one replicated log against another, with every write sent to its leader. Needs redis-cli and etcd (Debian: apt-get install -y
# etcd-server). Run it when the machine is otherwise idle:
#
#   bash bench/cluster/run.sh [seconds]
set -euo pipefail
secs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(cat $work/*.pids 2>/dev/null) 2>/dev/null || true; rm -rf $work' EXIT
(cd "$root" && go build -o "$work/cairn" ./cmd/cairn)
(cd "$root/bench/cluster" && go build -o "$work/clusterbench" .)

start_cairn() {
  local list="127.0.0.1:17101,127.0.0.1:17102,127.0.0.1:17103"
  rm -rf "$work/cairn-data"
  for p in 17101 17102 17103; do
    "$work/cairn" server --port $p --dir "$work/cairn-data/$p" --cluster-enabled yes --cluster-initial $list --cluster-shards 1 \
      --logfile "$work/cairn-$p.log" >/dev/null 2>&1 & echo $! >> "$work/cairn.pids"
  done
  # The one shard's master, as CLUSTER SLOTS names it, once it has stayed the same for 3 s: a
  # first leader that is not the shard's preferred one hands over to it soon after.
  local last="" same=0
  for i in $(seq 300); do
    leader=$(redis-cli -p 17101 cluster slots 2>/dev/null | sed -n '3,4p' | tr '\n' ':' | sed 's/:$//')
    if [ -n "$leader" ] && [ "$leader" != ":" ] && [ "$leader" = "$last" ]; then
      same=$((same + 1))
      if [ $same -ge 30 ]; then echo "$leader"; return; fi
    else
      same=0
    fi
    last=$leader
    sleep 0.1
  done
  echo "no cairn leader" >&2; exit 1
}

start_etcd() {
  local ic="e1=http://127.0.0.1:12380,e2=http://127.0.0.1:22380,e3=http://127.0.0.1:32380"
  rm -rf "$work/etcd-data"
  for i in 1 2 3; do
    etcd --name e$i --data-dir "$work/etcd-data/e$i" \
      --listen-client-urls http://127.0.0.1:${i}2379 --advertise-client-urls http://127.0.0.1:${i}2379 \
      --listen-peer-urls http://127.0.0.1:${i}2380 --initial-advertise-peer-urls http://127.0.0.1:${i}2380 \
      --initial-cluster $ic --initial-cluster-state new --initial-cluster-token bench --log-level error \
      > "$work/etcd-$i.log" 2>&1 & echo $! >> "$work/etcd.pids"
  done
  sleep 3
}

stop() { kill $(cat "$work/$1.pids") 2>/dev/null || true; sleep 2; rm -f "$work/$1.pids"; }

for clients in 50 500; do
  leader=$(start_cairn)
  "$work/clusterbench" -target cairn -addr "$leader" -clients $clients -duration ${secs}s
  stop cairn
  start_etcd
  "$work/clusterbench" -target etcd -addr 127.0.0.1:12379,127.0.0.1:22379,127.0.0.1:32379 -clients $clients -duration ${secs}s
  stop etcd
done

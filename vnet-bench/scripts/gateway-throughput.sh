#!/usr/bin/env bash
# TCP throughput through a load-balanced VIP against direct VM-to-VM on the overlay, in one lab run.
#
# Builds the gateway lab (examples/gateways.yaml renamed), serves a VIP (DNAT, Maglev) whose only
# backend is web1 running `iperf3 -s`, waits until both gateways see it healthy, then alternates:
#   direct   web2 -> web1 (host2 -> host1 over the VNP tunnel: the anchor)
#   vip      public client -> router -> gateway (DNAT, tunnel) -> web1
#   vip -R   web1 -> gateway (stateless reverse DNAT) -> router -> client (the download direction)
# Each run is one TCP stream for --seconds (default 10), --reps times (default 3); prints the median
# and range per path as a Markdown table. Every process and namespace it made is removed on exit.
# Usage (root): vnet-bench/scripts/gateway-throughput.sh [--reps N] [--seconds S]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
reps=3
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="${2:?--reps needs a number}"; shift 2 ;;
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gateway-throughput: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
lab=gwbench
vip=203.0.113.20
topology="$(mktemp --suffix=.yaml)"
work="$(mktemp -d /tmp/vb-gateway-throughput.XXXXXX)"
cleanup() {
  ip netns pids "vn-$lab-v-web1" 2>/dev/null | xargs -r kill 2>/dev/null || true
  "$root/vnet" lab down "$lab" >/dev/null 2>&1 || true
  rm -rf "$topology" "$work"
}
trap cleanup EXIT
sed "s/^name: gw$/name: $lab/" "$root/examples/gateways.yaml" > "$topology"

"$root/vnet" lab down "$lab" >/dev/null 2>&1 || true
echo "[$(date +%H:%M:%S)] lab up" >&2
timeout 300 "$root/vnet" lab up "$topology" >/dev/null
ip netns exec "vn-$lab-v-web1" iperf3 -s >/dev/null 2>&1 &
"$root/vnet" lb create bench --lab "$lab" --network blue --vip "$vip" --port tcp:5201 --backend web1 \
  --health tcp --health-port 5201 --interval-ms 500 --timeout-ms 400 >/dev/null

healthy() {
  for gw in gw1 gw2; do
    grep -q '"vm":"web1","healthy":true' "/run/vnet/labs/$lab/gw-$gw.status.json" 2>/dev/null || return 1
  done
}
for _ in $(seq 1 120); do healthy && break; sleep 0.5; done
healthy || { echo "gateway-throughput: web1 never became healthy behind $vip" >&2; exit 1; }

# One iperf3 client run; prints the receiver's bits per second.
run() {
  local namespace="$1"; shift
  timeout $((seconds + 30)) ip netns exec "$namespace" iperf3 -J -t "$seconds" "$@" > "$work/run.json"
  python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$work/run.json"
}
direct=(); forward=(); reverse=()
for rep in $(seq 1 "$reps"); do
  echo "[$(date +%H:%M:%S)] rep $rep/$reps" >&2
  direct+=("$(run "vn-$lab-v-web2" -c 10.0.0.11)")
  forward+=("$(run "vn-$lab-pub" -c "$vip")")
  reverse+=("$(run "vn-$lab-pub" -c "$vip" -R)")
done

row() {
  local name="$1"; shift
  printf '%s\n' "$@" | sort -n | awk -v name="$name" '{a[NR]=$1} END {
    printf "| %s | %.2f | %.2f–%.2f |\n", name, a[int((NR+1)/2)]/1e9, a[1]/1e9, a[NR]/1e9 }'
}
echo "| path (one TCP stream, ${seconds} s × ${reps}) | median Gbit/s | range |"
echo "|---|---:|---:|"
row "direct: web2 → web1, host to host over the VNP tunnel (anchor)" "${direct[@]}"
row "VIP: client → router → gateway (DNAT, tunnel) → web1" "${forward[@]}"
row "VIP -R: web1 → gateway (reverse DNAT) → router → client" "${reverse[@]}"

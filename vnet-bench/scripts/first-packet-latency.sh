#!/usr/bin/env bash
# First-packet latency of a new virtual network pair, registry round trip included, in a real lab.
#
# Builds a lab of 2 hosts with 8 VMs each on one network, then for every one of the 64 cross-host
# pairs sends two pings 200 ms apart: the first packet of a pair waits for the token (agent ->
# registry over mutual TLS -> agent), the second uses the cached token. The second packet is the
# anchor, measured in the same run on the same pair. Prints a Markdown table; removes the lab.
# Usage (root): vnet-bench/scripts/first-packet-latency.sh [--append docs/benchmarks.md]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lab=fpl
topology="$(mktemp --suffix=.yaml)"
trap '"$root/vnet" lab down "$lab" >/dev/null 2>&1 || true; rm -f "$topology"' EXIT

{
  echo "name: $lab"
  echo "underlay: {subnet: 10.255.0.0/24, mtu: 1500}"
  echo "hosts: [{name: host1, address: 10.255.0.1}, {name: host2, address: 10.255.0.2}]"
  echo "networks: [{name: net, id: 7, subnet: 10.1.0.0/24}]"
  echo "vms:"
  for i in $(seq 1 8); do
    echo "  - {name: a$i, network: net, host: host1, ip: 10.1.0.$((10 + i))}"
    echo "  - {name: b$i, network: net, host: host2, ip: 10.1.0.$((20 + i))}"
  done
} > "$topology"

"$root/vnet" lab down "$lab" >/dev/null 2>&1 || true
"$root/vnet" lab up "$topology" >/dev/null
first=()
second=()
for i in $(seq 1 8); do
  for j in $(seq 1 8); do
    # The agent answers every ARP with its gateway MAC; a static entry keeps the guest's ARP exchange
    # out of the first packet, so the numbers are about the token alone.
    ip netns exec "vn-$lab-v-a$i" ip neigh replace "10.1.0.$((20 + j))" lladdr 02:56:4e:ff:ff:fe dev eth0
    out="$(ip netns exec "vn-$lab-v-a$i" ping -n -c 2 -i 0.2 -W 2 "10.1.0.$((20 + j))" || true)"
    first+=("$(sed -n 's/.*icmp_seq=1 .*time=\([0-9.]*\).*/\1/p' <<<"$out")")
    second+=("$(sed -n 's/.*icmp_seq=2 .*time=\([0-9.]*\).*/\1/p' <<<"$out")")
  done
done

stats() { printf '%s\n' "$@" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {
  if (NR == 0) { print "no replies | | |"; exit }
  printf "%.3f | %.3f | %.3f | %d/64\n", a[int((NR+1)/2)], a[int(NR*0.9+0.5)], a[NR], NR }'; }

table="$(cat <<TABLE
| packet of a new pair (64 pairs, 2 hosts) | p50 ms | p90 ms | max ms | answered |
|---|---|---|---|---|
| first: token requested from the registry (mutual TLS gRPC), then sent | $(stats "${first[@]}")
| anchor: second, token cached | $(stats "${second[@]}")
TABLE
)"
echo "$table"
if [ "${1:-}" = "--append" ] && [ -n "${2:-}" ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — first-packet latency of a new pair, in the lab"
    echo
    echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem/{print $2}') GiB, Linux $(uname -r)."
    echo "Command: \`vnet-bench/scripts/first-packet-latency.sh\` (ping RTT inside the VMs; the reply uses the return token, so it never waits for the registry)."
    echo
    echo "$table"
  } >> "$2"
fi

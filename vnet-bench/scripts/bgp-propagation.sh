#!/usr/bin/env bash
# BGP propagation: time for 100,000 VPN-IPv4 routes to get from one vnet BGP speaker to another, and
# the heap they take at each end.
#
# Builds vnet-bench (and what it needs) and runs dev.vnet.bench.BgpPropagationBenchmark: speaker A in
# this JVM on 127.0.0.2 originates --routes routes shaped like a vnet deployment (networks of 100 VMs on
# 10 hosts, one route target per network, RD per (network, host), VNP encapsulation); speaker B starts
# in a child JVM on 127.0.0.3 and the initial table transfer is timed until B's Loc-RIB holds them all
# (the headline). Then A originates as many again over the live session (live propagation). Prints
# seconds, routes/s, UPDATEs sent, and heap per 100,000 routes at A and at B. No root needed.
#
# Usage: vnet-bench/scripts/bgp-propagation.sh [--no-build] [--routes N (100000)] [--max-seconds S (300)]
#        [--child-heap SIZE (2g)]
# JAVA_OPTS overrides speaker A's JVM options (default -Xmx2g). The benchmark exits after --max-seconds;
# this script kills it 60 s later.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
build=1
max_seconds=300
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --max-seconds) max_seconds="${2:?--max-seconds needs a number}"; args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --routes|--child-heap) args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) echo "bgp-propagation: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$max_seconds" =~ ^[1-9][0-9]*$ ]] || { echo "bgp-propagation: --max-seconds must be a positive integer" >&2; exit 2; }

jar="$root/vnet-bench/target/vnet-benchmarks.jar"
if [ "$build" -eq 1 ]; then
  echo "[bgp-propagation] building vnet-bench" >&2
  (cd "$root" && ./mvnw -q -B -o install -DskipTests -pl vnet-bench -am) \
    || (cd "$root" && ./mvnw -q -B install -DskipTests -pl vnet-bench -am)
fi
[ -f "$jar" ] || { echo "bgp-propagation: $jar is missing; run without --no-build" >&2; exit 1; }

# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec timeout -k 10 $((max_seconds + 60)) "$JAVA_HOME/bin/java" ${JAVA_OPTS:--Xmx2g} \
  -cp "$jar" dev.vnet.bench.BgpPropagationBenchmark "${args[@]}"

#!/usr/bin/env bash
# Gateway consistent mappings side by side: the seed's hash table (M = 5, 100, 1000) and Maglev
# (65,537 slots) for 10, 100 and 1,000 backends.
#   1. GatewayMappingBenchmark (plain main): imbalance, movement when one backend leaves, build time,
#      1 M flows; one Markdown table.
#   2. GatewayLookupBenchmark (JMH, 2 × 1 s warm-up, 3 × 1 s measured, 1 fork): lookups per µs on
#      one thread, mapping alone and hash + mapping.
# Both live in vnet-gateway's test sources (dev.vnet.bench). Each step is bounded by `timeout`.
#
# Usage: vnet-bench/scripts/gateway-mapping.sh [--flows N] [--lookup-only|--mapping-only] [--jmh-args "..."]
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
flows=1000000
run_mapping=1
run_lookup=1
jmh_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --flows) flows="${2:?--flows needs a number}"; shift 2 ;;
    --lookup-only) run_mapping=0; shift ;;
    --mapping-only) run_lookup=0; shift ;;
    --jmh-args) jmh_args="${2?--jmh-args needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gateway-mapping: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"
cd "$root"
work="$(mktemp -d /tmp/vb-gateway-mapping.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "[$(date +%H:%M:%S)] building vnet-gateway (tests skipped)" >&2
timeout 600 ./mvnw -q -B -o -pl vnet-gateway -am install -DskipTests >&2
timeout 120 ./mvnw -q -B -o -pl vnet-gateway dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$work/cp" >&2
cp="vnet-gateway/target/classes:vnet-gateway/target/test-classes:$(cat "$work/cp")"

if [ "$run_mapping" -eq 1 ]; then
  echo "[$(date +%H:%M:%S)] mapping quality and build time, $flows flows" >&2
  timeout 900 "$java" -Xmx2g -cp "$cp" dev.vnet.bench.GatewayMappingBenchmark "$flows"
  echo
fi
if [ "$run_lookup" -eq 1 ]; then
  echo "[$(date +%H:%M:%S)] lookups per µs (JMH)" >&2
  # shellcheck disable=SC2086
  timeout 1200 "$java" -cp "$cp" org.openjdk.jmh.Main GatewayLookupBenchmark -rf text -rff "$work/jmh.txt" $jmh_args >&2
  cat "$work/jmh.txt"
fi

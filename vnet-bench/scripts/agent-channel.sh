#!/usr/bin/env bash
# Agent channel: time from a change to "all affected agents applied", and controller memory per agent.
#
# Builds vnet-bench (and what it needs) and runs dev.vnet.bench.AgentChannelBenchmark: a controller's
# agent channel on a mutual-TLS port on loopback, 1,000 simulated agents (AgentChannelClient, one
# certificate and TCP connection each) holding 10 VMs each, then --changes changes (add a VM on a
# random host, delete it, ...) each timed until every affected agent has acknowledged it. Prints p50,
# p99 and max, and heap / RSS / direct buffers per connected agent. No root needed.
#
# With --api it runs dev.vnet.bench.ControllerApiBenchmark instead: the whole controller process in
# this JVM (REST API, graph, registry, channel) and each change made by an HTTP call with ?wait=true,
# timed until every affected agent acknowledged it (options: --agents --vms --hosts-per-network
# --changes --warmup --max-seconds --seed).
#
# Usage: vnet-bench/scripts/agent-channel.sh [--no-build] [--api] [benchmark options]
#   --agents N (1000)  --vms N per agent (10)  --hosts-per-network N (10)  --one-network
#   --changes N (200)  --warmup N (20)  --agents-jvm same|separate (same: agents in the controller's
#   JVM, memory counts both ends; separate: all agents in one child JVM, memory is the controller's)
#   --child-heap SIZE (4g)  --max-seconds S (900)  --seed N (1)
# JAVA_OPTS overrides the controller JVM's options (default -Xmx4g; give --one-network more).
# The whole run is bounded: the benchmark exits after --max-seconds, and this script kills it 60 s later.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
build=1
max_seconds=900
main=dev.vnet.bench.AgentChannelBenchmark
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --api) main=dev.vnet.bench.ControllerApiBenchmark; shift ;;
    --max-seconds) max_seconds="${2:?--max-seconds needs a number}"; args+=("$1" "$2"); shift 2 ;;
    --one-network) args+=("$1"); shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*) args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) echo "agent-channel: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$max_seconds" =~ ^[1-9][0-9]*$ ]] || { echo "agent-channel: --max-seconds must be a positive integer" >&2; exit 2; }

jar="$root/vnet-bench/target/vnet-benchmarks.jar"
if [ "$build" -eq 1 ]; then
  echo "[agent-channel] building vnet-bench" >&2
  (cd "$root" && ./mvnw -q -B -o install -DskipTests -pl vnet-bench -am) \
    || (cd "$root" && ./mvnw -q -B install -DskipTests -pl vnet-bench -am)
fi
[ -f "$jar" ] || { echo "agent-channel: $jar is missing; run without --no-build" >&2; exit 1; }

# 1,000 agents in one JVM: 2,000 sockets plus the JVM's own files.
ulimit -n 8192 2>/dev/null || true
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec timeout -k 10 $((max_seconds + 60)) "$JAVA_HOME/bin/java" ${JAVA_OPTS:--Xmx4g} \
  --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$jar" "$main" "${args[@]}"

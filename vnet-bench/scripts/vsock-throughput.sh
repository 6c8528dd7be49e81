#!/usr/bin/env bash
# Socket offload (issue 8) against the overlay in one lab run: TCP throughput and connect latency.
#
# Builds a 2-host lab (host1 with VM blue1, host2 with VM blue2, one network, MTU 1500 underlay), then
#   overlay  client in blue1 -> blue2's sink (10.0.0.12:5301): blue1's TCP stack, TAP, host1's agent,
#            VNP over UDP on the underlay, host2's agent, TAP, blue2's TCP stack
#   offload  client in blue1 -> SOCKS5 front of `vnet vsock guest` (127.0.0.1:1080) -> session over
#            the abstract Unix socket -> blue1's device (in host1's agent, policy in the lab's vsock/) ->
#            host1's own TCP socket -> the sink in host2's namespace (10.255.0.2:5302), on the underlay
# Both cross the same underlay between the two host namespaces. Throughput: one TCP stream of 64 KiB
# writes for --seconds (default 10), counted at the sender once the sink closed after reading it all;
# --reps interleaved repetitions (default 3, the order alternating), after one unmeasured --warmup
# run of each path (default 3 s). Connect latency: --connects sequential connects per path and rep
# (default 200, after 10 unmeasured). The client and sink are vnet-bench's VsockLoad (plain JDK),
# compiled here with javac. With --syscalls, one more stream per path runs while `perf stat` counts
# the system calls, context switches and CPU time of every process on the path (client, sink, the two
# agents or the guest's coprocessor and the host's device), per 64 KiB the client wrote. With
# --samples N, one more offload stream (S + N seconds) runs while N thread dumps (jcmd) of the
# coprocessor and the device tell where their relay threads wait: for credit, data, or a socket.
# Prints Markdown tables; removes everything it made on exit.
# Usage (root): vnet-bench/scripts/vsock-throughput.sh [--reps N] [--seconds S] [--connects N] [--warmup S] [--syscalls] [--samples N]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
reps=3
seconds=10
connects=200
warmup=3
syscalls=0
samples=0
command_line="vnet-bench/scripts/vsock-throughput.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="${2:?--reps needs a number}"; shift 2 ;;
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --connects) connects="${2:?--connects needs a number}"; shift 2 ;;
    --warmup) warmup="${2:?--warmup needs a number}"; shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    --samples) samples="${2:?--samples needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vsock-throughput: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "vsock-throughput: run as root (namespaces)" >&2; exit 1; }
[ "$syscalls" -eq 0 ] || command -v perf >/dev/null || { echo "vsock-throughput: --syscalls needs perf" >&2; exit 1; }
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"

lab=vsbench
h1="vn-$lab-h-host1"
h2="vn-$lab-h-host2"
v1="vn-$lab-v-blue1"
v2="vn-$lab-v-blue2"
overlay_host=10.0.0.12
overlay_port=5301
offload_host=10.255.0.2
offload_port=5302
socks_port=1080
work="$(mktemp -d /tmp/vb-vsock-throughput.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 -- "-$pid" 2>/dev/null || true; done
  "$root/vnet" lab down "$lab" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
start_seconds=$SECONDS
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# Starts a long-lived process in its own session (so the trap ends it and its children), bounded in time.
background() {
  local name="$1"; shift
  setsid timeout 1800 "$@" >"$work/$name.log" 2>&1 </dev/null &
  pids+=("$!")
}
wait_for() {
  local what="$1"; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "vsock-throughput: $what never came up" >&2
  tail -n 20 "$work"/*.log >&2 || true
  exit 1
}
listening() { [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]; }

log "compiling the load client"
mkdir -p "$work/classes"
"$JAVA_HOME/bin/javac" -d "$work/classes" "$root/vnet-bench/src/main/java/dev/vnet/bench/VsockLoad.java"
printf '#!/bin/sh\nexec "%s" -XX:+UseSerialGC -Xmx256m -cp "%s" dev.vnet.bench.VsockLoad "$@"\n' "$java" "$work/classes" > "$work/load"
chmod +x "$work/load"

cat > "$work/topology.yaml" <<YAML
name: $lab
underlay: {subnet: 10.255.0.0/24, mtu: 1500}
hosts:
  - {name: host1, address: 10.255.0.1}
  - {name: host2, address: $offload_host}
networks:
  - {name: blue, id: 100, subnet: 10.0.0.0/24}
vms:
  - {name: blue1, network: blue, host: host1, ip: 10.0.0.11}
  - {name: blue2, network: blue, host: host2, ip: $overlay_host}
YAML
# blue1 may reach the offload sink and nothing else (the pattern is RE2, in a JSON string).
pattern="$(sed 's/\./\\\\./g' <<<"$offload_host")"
policy='{"vm": "blue1", "default": "deny", "acl": [{"allow": "tcp://'"$pattern:$offload_port"'"}]}'

"$root/vnet" lab down "$lab" >/dev/null 2>&1 || true
log "lab up"
timeout 300 "$root/vnet" lab up "$work/topology.yaml" >/dev/null

log "sinks, socket offload host and guest"
background sink-overlay ip netns exec "$v2" "$work/load" sink "$overlay_port"
background sink-offload ip netns exec "$h2" "$work/load" sink "$offload_port"
# blue1's device is host1's agent's (so its own connections leave from host1, over the underlay); the
# agent reads the VM's policy from the lab's vsock/ directory within a second.
printf '%s\n' "$policy" > "/run/vnet/labs/$lab/vsock/blue1.json"
wait_for "the overlay sink" listening "$v2" "$overlay_port"
wait_for "the offload sink" listening "$h2" "$offload_port"
wait_for "blue1's socket device" grep -q '"blue1"' "/run/vnet/labs/$lab/host1.vsock.json"
sleep 1.5 # the policy file is read once a second
background vsock-guest ip netns exec "$v1" "$root/vnet" vsock guest --dns off --socks "127.0.0.1:$socks_port" \
  --status-file "$work/vsock-guest.json"
wait_for "the guest's session" grep -q '"session":true' "$work/vsock-guest.json"
wait_for "the SOCKS5 front" listening "$v1" "$socks_port"

# One run of the client in blue1, bounded by $1 seconds; prints its result line.
client() {
  local limit="$1"; shift
  timeout "$limit" ip netns exec "$v1" "$work/load" "$@"
}
throughput() { # path, seconds
  case "$1" in
    overlay) client $(($2 + 60)) throughput "$overlay_host" "$overlay_port" "$2" ;;
    offload) client $(($2 + 60)) throughput "$offload_host" "$offload_port" "$2" "socks=$socks_port" ;;
  esac
}
connect() { # path
  case "$1" in
    overlay) client $((60 + connects / 10)) connect "$overlay_host" "$overlay_port" "$connects" ;;
    offload) client $((60 + connects / 10)) connect "$offload_host" "$offload_port" "$connects" "socks=$socks_port" ;;
  esac
}
field() { sed -n "s/.*\b$1=\([0-9.-]*\).*/\1/p" <<<"$2"; }

clk_tck="$(getconf CLK_TCK)"
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# Other load on the machine: busy cores while everything here is up and idle.
j0="$(busy_jiffies)"; sleep 2; j1="$(busy_jiffies)"
idle_cores="$(awk -v j="$((j1 - j0))" -v t="$clk_tck" 'BEGIN { printf "%.2f", j / t / 2 }')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
log "warm-up: ${warmup} s per path (not counted)"
throughput overlay "$warmup" >/dev/null
throughput offload "$warmup" >/dev/null

declare -A bps cpu p50 p90 pmax
for rep in $(seq 1 "$reps"); do
  if [ $((rep % 2)) -eq 1 ]; then order=(overlay offload); else order=(offload overlay); fi
  for path in "${order[@]}"; do
    log "rep $rep/$reps: $path throughput (${seconds} s)"
    out="$(throughput "$path" "$seconds")"
    bps[$path,$rep]="$(field bits_per_second "$out")"
    cpu[$path,$rep]="$(awk -v j="$(field busy_jiffies "$out")" -v t="$clk_tck" -v b="$(field bytes "$out")" \
      'BEGIN { printf "%.3f", (j / t) / (b * 8 / 1e9) }')"
  done
  for path in "${order[@]}"; do
    log "rep $rep/$reps: $path connect latency ($connects connects)"
    out="$(connect "$path")"
    p50[$path,$rep]="$(field p50_ms "$out")"
    p90[$path,$rep]="$(field p90_ms "$out")"
    pmax[$path,$rep]="$(field max_ms "$out")"
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# The offload runs must really have gone through the device: no fallback to the guest's own stack.
sleep 1.2 # the status files are written once a second
guest_status="$(cat "$work/vsock-guest.json")"
host_status="$(cat "/run/vnet/labs/$lab/host1.vsock.json")"
for counter in fallbacks local failed denied; do
  if ! grep -q "\"$counter\":0[,}]" <<<"$guest_status"; then
    echo "vsock-throughput: the SOCKS5 front did not offload everything: $guest_status" >&2
    exit 1
  fi
done
offloaded_bytes="$(sed -n 's/.*"bytes_from_guest":\([0-9]*\).*/\1/p' <<<"$host_status")"
front_counters="${guest_status#*\"counters\":}"
front_counters="${front_counters%\}}"

# --syscalls: one more stream per path, with perf stat on each process between client and sink.
events="task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_read,syscalls:sys_enter_write"
events+=",syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvmsg,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait"
events+=",syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll"
pid_in() { # the process in namespace $1 whose command line holds $2
  local pid
  for pid in $(ip netns pids "$1"); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" && { echo "$pid"; return 0; }
  done
  echo "vsock-throughput: no process '$2' in $1" >&2
  return 1
}
# One row of the profile table from a perf stat CSV ($1), per 64 KiB of the stream ($4 bytes).
profile_row() {
  awk -F, -v path="$2" -v name="$3" -v chunks="$(awk -v b="$4" 'BEGIN { print b / 65536 }')" \
      -v gbit="$(awk -v b="$4" 'BEGIN { print b * 8 / 1e9 }')" '
    $3 != "" { v[$3] = $1 }
    END {
      printf "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f |\n", path, name,
        v["raw_syscalls:sys_enter"] / chunks, v["syscalls:sys_enter_read"] / chunks, v["syscalls:sys_enter_write"] / chunks,
        (v["syscalls:sys_enter_sendmsg"] + v["syscalls:sys_enter_recvmsg"]) / chunks, v["syscalls:sys_enter_futex"] / chunks,
        (v["syscalls:sys_enter_epoll_wait"] + v["syscalls:sys_enter_epoll_pwait"] + v["syscalls:sys_enter_epoll_ctl"] \
          + v["syscalls:sys_enter_poll"] + v["syscalls:sys_enter_ppoll"]) / chunks, v["context-switches"] / chunks,
        v["task-clock"] / 1000 / gbit }' "$1"
}
profile() { # path, then name=pid of each long-lived process to count; the client is counted too
  local path="$1"; shift
  local perfs=() entry out bytes target
  for entry in "$@"; do
    perf stat -x, -o "$work/perf-$path-${entry%%=*}.csv" -e "$events" -p "${entry#*=}" -- sleep $((seconds + 4)) &
    perfs+=("$!")
  done
  sleep 0.5
  case "$path" in
    overlay) target=("$overlay_host" "$overlay_port" "$seconds") ;;
    offload) target=("$offload_host" "$offload_port" "$seconds" "socks=$socks_port") ;;
  esac
  out="$(timeout $((seconds + 60)) ip netns exec "$v1" perf stat -x, -o "$work/perf-$path-client.csv" -e "$events" -- \
    "$work/load" throughput "${target[@]}")"
  wait "${perfs[@]}"
  bytes="$(field bytes "$out")"
  profile_row "$work/perf-$path-client.csv" "$path" "client (blue1; its JVM's start included)" "$bytes" >>"$work/profile.md"
  for entry in "$@"; do
    profile_row "$work/perf-$path-${entry%%=*}.csv" "$path" "${entry%%=*}" "$bytes" >>"$work/profile.md"
  done
  awk -v path="$path" -v b="$(field bits_per_second "$out")" -v j="$(field busy_jiffies "$out")" -v t="$clk_tck" -v n="$bytes" \
    'BEGIN { printf "| %s | the stream: %.2f Gbit/s; the whole machine busy | | | | | | | | %.3f |\n", path, b / 1e9, (j / t) / (n * 8 / 1e9) }' \
    >>"$work/profile.md"
}
if [ "$syscalls" -eq 1 ]; then
  log "syscall profile: overlay"
  profile overlay "agent host1=$(pid_in "$h1" " agent ")" "agent host2=$(pid_in "$h2" " agent ")" \
    "sink (blue2)=$(pid_in "$v2" "VsockLoad sink")"
  log "syscall profile: offload"
  profile offload "vsock guest (blue1)=$(pid_in "$v1" "vsock guest")" "agent with the device (host1)=$(pid_in "$h1" " agent ")" \
    "sink (host2)=$(pid_in "$h2" "VsockLoad sink")"
fi

# --samples: where the offload relay threads are during a stream, from thread dumps (virtual threads included).
# One line per thread kind, counts by state; the classification reads each thread's stack.
classify() { # dump file, thread-name pattern (awk regex), then state=stack-pattern pairs; prints the state
  local file="$1" name="$2"; shift 2
  awk -v name="$name" -v rules="$*" 'BEGIN { RS = ""; n = split(rules, r, " ") }
    $0 ~ name {
      for (i = 1; i <= n; i++) { split(r[i], kv, "="); if (index($0, kv[2]) > 0) { print kv[1]; found = 1; exit } }
      print "other"; found = 1; exit
    }
    END { if (!found) print "absent" }' "$file"
}
if [ "$samples" -gt 0 ]; then
  log "thread samples: offload, $samples dumps"
  guest_pid="$(pid_in "$v1" "vsock guest")"
  device_pid="$(pid_in "$h1" " agent ")"
  throughput offload $((seconds + samples)) >"$work/sampled-stream.txt" &
  stream=$!
  sleep 2
  for i in $(seq 1 "$samples"); do
    kill -0 "$stream" 2>/dev/null || break
    timeout 10 "$JAVA_HOME/bin/jcmd" "$guest_pid" Thread.dump_to_file -overwrite "$work/guest-$i.txt" >/dev/null 2>&1 || true
    timeout 10 "$JAVA_HOME/bin/jcmd" "$device_pid" Thread.dump_to_file -overwrite "$work/device-$i.txt" >/dev/null 2>&1 || true
    [ -f "$work/guest-$i.txt" ] && [ -f "$work/device-$i.txt" ] || continue
    {
      echo "guest_up=$(classify "$work/guest-$i.txt" 'lambda[$]relay' \
        credit=SocketStream\$Out.write loopback_read=NioSocketImpl.implRead outbox=FrameOutbox.send)"
      echo "guest_writer=$(classify "$work/guest-$i.txt" '"vsock-[^"]*-writer"' idle=FrameOutbox.awaitFrames unix_write=Libc.write)"
      echo "device_reader=$(classify "$work/device-$i.txt" '"vsock-blue1-reader"' unix_read=Libc.read)"
      echo "device_up=$(classify "$work/device-$i.txt" '"vsock-blue1-up-' \
        data=SocketStream\$In.read tcp_write=NioSocketImpl.implWrite)"
    } >>"$work/samples.txt"
  done
  wait "$stream" || true
fi
elapsed=$((SECONDS - start_seconds))

values() { local -n table=$1; local path=$2; for rep in $(seq 1 "$reps"); do echo "${table[$path,$rep]}"; done; }
median() { sort -g | awk '{a[NR]=$1} END { print a[int((NR+1)/2)] }'; }
gbps() { values bps "$1" | sort -g | awk '{a[NR]=$1} END { printf "%.2f | %.2f–%.2f", a[int((NR+1)/2)]/1e9, a[1]/1e9, a[NR]/1e9 }'; }
ratios() { # per repetition, offload / overlay
  local -n table=$1
  for rep in $(seq 1 "$reps"); do awk -v a="${table[offload,$rep]}" -v b="${table[overlay,$rep]}" 'BEGIN { printf "%.4f\n", a / b }'; done
}
row() {
  local path="$1" name="$2"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$(gbps "$path")" \
    "$(values cpu "$path" | median)" "$(values p50 "$path" | median)" "$(values p90 "$path" | median)" \
    "$(values pmax "$path" | sort -g | tail -1)"
}
range() { sort -g | awk '{a[NR]=$1} END { printf "%.2f× (%.2f–%.2f)", a[int((NR+1)/2)], a[1], a[NR] }'; }

jdk_version="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')"
echo "Date: $started; run time $((elapsed / 60)) min $((elapsed % 60)) s (lab included); load average $load_before before the first stream, $load_after after the last."
echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem/{print $2}') GiB, Linux $(uname -r), JDK $jdk_version."
echo "Command: \`$command_line\` ($reps interleaved repetition$([ "$reps" -eq 1 ] || echo s), ${seconds} s per stream after a ${warmup} s warm-up per path, $connects connects per path and repetition after 10 unmeasured)."
echo
echo "| path (one TCP stream, ${seconds} s × ${reps}; ${connects} connects × ${reps}) | median Gbit/s | range | machine CPU s per Gbit | connect p50 ms | connect p90 ms | connect max ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row overlay "overlay: blue1 → blue2 (guest TCP, TAP, agents, VNP over the underlay)"
row offload "offload: blue1 → SOCKS5 front → device on host1 → host1's TCP → host2"
echo "| offload / overlay (per repetition, median and range) | $(ratios bps | range) | | $(ratios cpu | range) | $(ratios p50 | range) | $(ratios p90 | range) | |"
echo
echo "Connect p50 and p90: the median over repetitions of each repetition's percentile; max: over all."
echo "Machine CPU: the whole machine's busy time (/proc/stat) during each stream, per Gbit delivered (busy cores while idle, everything up: $idle_cores)."
echo "Offloaded through the device: $offloaded_bytes bytes; the SOCKS5 front's counters: $front_counters."
if [ "$syscalls" -eq 1 ]; then
  echo
  echo "Per 64 KiB the client wrote, one more ${seconds} s stream per path under \`perf stat\` (each process, all its threads;"
  echo "CPU: the process's task-clock, user and kernel, per Gbit delivered):"
  echo
  echo "| path | process | syscalls | read | write | sendmsg + recvmsg | futex | epoll (wait, ctl) + poll | context switches | CPU s per Gbit |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  cat "$work/profile.md"
fi
if [ "$samples" -gt 0 ] && [ -s "$work/samples.txt" ]; then
  echo
  echo "Where the offload path's threads were in $(grep -c '^guest_up=' "$work/samples.txt") thread dumps during one more $((seconds + samples)) s stream"
  echo "($(awk '{ printf "%.2f Gbit/s", $0 / 1e9 }' <<<"$(field bits_per_second "$(cat "$work/sampled-stream.txt")")") while sampled):"
  echo
  echo "| thread | states (count) |"
  echo "|---|---|"
  for kind in guest_up guest_writer device_reader device_up; do
    echo "| $kind | $(sed -n "s/^$kind=//p" "$work/samples.txt" | sort | uniq -c | sort -rn | awk '{ printf "%s%s %d", sep, $2, $1; sep = ", " }') |"
  done
fi

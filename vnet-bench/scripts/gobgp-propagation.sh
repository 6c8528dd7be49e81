#!/usr/bin/env bash
# GoBGP anchor for VPNv4 route propagation: how long 100,000 VPNv4 routes take to go from one gobgpd to
# another and be installed in the receiver's RIB, and gobgpd's memory per 100,000 routes.
#
# Topology, all on loopback (no root needed; BGP on port 1790, each gobgpd's API on its own address):
#   injector 127.0.0.23 AS 65099 --eBGP--> A 127.0.0.21 AS 65000 --iBGP--> B 127.0.0.22 AS 65000
# 1. A and B start; A's neighbor B is admin-down, B waits passively for A.
# 2. Load: GoBgpVpnv4Injector.java (a minimal BGP speaker, plain JDK) sends the routes to A over eBGP in
#    UPDATEs of up to 4 KB (100 routes each) and keeps the session up. Timed from its first UPDATE until
#    A's RIB holds all routes. (GoBGP 3.10 has no bulk VPNv4 load in its CLI: `gobgp mrt inject` refuses
#    RIB_GENERIC records and `gobgp global rib add` takes one route per call, ~11 ms each here.)
# 3. Propagation: `gobgp neighbor 127.0.0.22 enable` on A. GoBGP waits 5-10 s (random) before it
#    connects; timed from the session being Established on B until B's RIB holds all routes, polling
#    `gobgp global rib -a vpnv4 summary` every 100 ms (so +-0.1 s). iBGP: A passes the routes on with
#    their next hops and route targets unchanged. gobgpd 3.10 sends one UPDATE per VPNv4 route (the
#    summary line shows B's message counts).
# Routes: RD 65000:1..100 (1,000 routes each, every RD the same 10.0.0.0/24..10.3.231.0/24 plan), label
# 16 + i, route target 65000:N per 100 routes, one next hop 10.255.x.y per 100 routes, Encapsulation
# VXLAN. Memory: VmRSS of each gobgpd from /proc before and after, scaled to 100,000 routes (Go's heap
# keeps some garbage, so RSS is an upper bound of what the routes need).
#
# Usage: vnet-bench/scripts/gobgp-propagation.sh [--routes N (100000)] [--routes-per-rd N (1000)]
#   [--routes-per-rt N (100)] [--max-seconds S (300)] [--show N: print N of B's routes at the end]
# Needs gobgpd and gobgp (apt-get install gobgpd) and JDK 25 (JAVA_HOME, default Temurin 25). Every
# process runs under `timeout`; all are killed and the work directory deleted on exit, also on failure.
set -uo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
routes=100000
per_rd=1000
per_rt=100
max_seconds=300
show=0
while [ $# -gt 0 ]; do
  case "$1" in
    --routes) routes="${2:?--routes needs a number}"; shift 2 ;;
    --routes-per-rd) per_rd="${2:?--routes-per-rd needs a number}"; shift 2 ;;
    --routes-per-rt) per_rt="${2:?--routes-per-rt needs a number}"; shift 2 ;;
    --max-seconds) max_seconds="${2:?--max-seconds needs a number}"; shift 2 ;;
    --show) show="${2:?--show needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gobgp-propagation: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$routes" "$per_rd" "$per_rt" "$max_seconds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "gobgp-propagation: numbers must be positive integers" >&2; exit 2; }
done
[[ "$show" =~ ^[0-9]+$ ]] || { echo "gobgp-propagation: --show needs a number" >&2; exit 2; }
for tool in gobgpd gobgp timeout; do
  command -v "$tool" >/dev/null || { echo "gobgp-propagation: $tool is missing (as root: apt-get install gobgpd)" >&2; exit 1; }
done
[ -x "$JAVA_HOME/bin/java" ] || { echo "gobgp-propagation: no JDK at $JAVA_HOME (set JAVA_HOME to a JDK 25)" >&2; exit 1; }

A=127.0.0.21 B=127.0.0.22 I=127.0.0.23 bgp_port=1790 api_port=50051
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
deadline=$(( ${EPOCHREALTIME%.*} + max_seconds - 5 ))
past_deadline() { [ "${EPOCHREALTIME%.*}" -ge "$deadline" ]; }

exec 9>/tmp/vb-gobgp-propagation.lock
flock -n 9 || { echo "gobgp-propagation: another run holds /tmp/vb-gobgp-propagation.lock" >&2; exit 1; }
work="$(mktemp -d /tmp/vb-gobgp.XXXXXX)"
: > "$work/pids"

cleanup() {
  set +e
  trap - EXIT INT TERM
  local pid i
  # Each process runs under a `timeout` we started: SIGKILL its child and let `timeout` reap it and
  # exit; SIGKILL a `timeout` that does not.
  while read -r pid; do
    [ -n "$pid" ] || continue
    pkill -KILL -P "$pid" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done < "$work/pids" 2>/dev/null # timeout dies of its child's SIGKILL: no "Killed" job notices
  rm -rf "$work"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# run NAME COMMAND...: in the background under `timeout`, output to $work/NAME.log
run() {
  local name="$1"; shift
  timeout -s KILL "$max_seconds" "$@" >"$work/$name.log" 2>&1 &
  echo $! >> "$work/pids"
  eval "${name}_timeout=$!"
}
fail() {
  log "FAILED: $*"
  local f
  for f in "$work"/*.log; do echo "--- $(basename "$f"):" >&2; tail -n 15 "$f" >&2; done
  exit 1
}
cli() { local host="$1"; shift; timeout 30 gobgp -u "$host" -p "$api_port" "$@"; }
paths() { cli "$1" global rib -a vpnv4 summary 2>/dev/null | sed -n 's/.*Path: *\([0-9]*\).*/\1/p'; }
established() { cli "$1" neighbor "$2" -j 2>/dev/null | grep -q '"session_state":6'; }
rss_kb() { # VmRSS of the gobgpd under the `timeout` whose pid is $1
  local child; child=$(pgrep -P "$1" | head -1)
  awk '/^VmRSS:/ { print $2 }' "/proc/$child/status" 2>/dev/null
}

neighbor() { # neighbor ADDRESS AS LOCAL_ADDRESS HOLD_TIME EXTRA_CONFIG_LINE EXTRA_TRANSPORT_LINE
  cat <<EOF

[[neighbors]]
  [neighbors.config]
    neighbor-address = "$1"
    peer-as = $2
$5
  [neighbors.timers.config]
    connect-retry = 2
    hold-time = $4
    keepalive-interval = $(( $4 / 3 ))
  [neighbors.transport.config]
    local-address = "$3"
    remote-port = $bgp_port
$6
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l3vpn-ipv4-unicast"
EOF
}
global() { # global ADDRESS ROUTER_ID
  printf '[global.config]\n  as = 65000\n  router-id = "%s"\n  port = %s\n  local-address-list = ["%s"]\n' "$2" "$bgp_port" "$1"
}
{ global "$A" 10.255.255.21
  neighbor "$I" 65099 "$A" 90 "" "    passive-mode = true"
  neighbor "$B" 65000 "$A" 9 "    admin-down = true" ""
} > "$work/a.toml"
{ global "$B" 10.255.255.22
  neighbor "$A" 65000 "$B" 9 "" "    passive-mode = true"
} > "$work/b.toml"

log "starting gobgpd A ($A) and B ($B)"
run gobgpd_a gobgpd -f "$work/a.toml" -p --api-hosts "$A:$api_port" --pprof-disable
run gobgpd_b gobgpd -f "$work/b.toml" -p --api-hosts "$B:$api_port" --pprof-disable
for host in "$A" "$B"; do
  until cli "$host" global >/dev/null 2>&1; do
    past_deadline && fail "gobgpd on $host did not answer"
    kill -0 "$gobgpd_a_timeout" 2>/dev/null && kill -0 "$gobgpd_b_timeout" 2>/dev/null || fail "gobgpd exited"
    sleep 0.1
  done
done
sleep 0.5
rss_a0=$(rss_kb "$gobgpd_a_timeout"); rss_b0=$(rss_kb "$gobgpd_b_timeout")

log "loading $routes VPNv4 routes into A through the injector (eBGP from $I)"
run injector "$JAVA_HOME/bin/java" -Xmx256m "$here/GoBgpVpnv4Injector.java" --local "$I" --peer "$A" \
  --port "$bgp_port" --as 65099 --router-id 10.255.255.23 --routes "$routes" --routes-per-rd "$per_rd" \
  --routes-per-rt "$per_rt" --max-seconds "$max_seconds"
until grep -q '^sending ' "$work/injector.log"; do
  past_deadline && fail "the injector did not start sending"
  kill -0 "$injector_timeout" 2>/dev/null || fail "the injector exited"
  sleep 0.05
done
load_start=$(awk '/^sending / { printf "%.3f", $2 / 1000 }' "$work/injector.log")
until [ "$(paths "$A")" = "$routes" ]; do
  past_deadline && fail "A holds $(paths "$A") of $routes routes"
  kill -0 "$injector_timeout" 2>/dev/null || fail "the injector exited"
  sleep 0.1
done
loaded=$(now)
sleep 0.2
sent_line=$(grep '^sent ' "$work/injector.log")
rss_a1=$(rss_kb "$gobgpd_a_timeout")
[ "$(paths "$B")" = 0 ] || fail "B has routes before its session is enabled"

log "enabling A's session to B"
enabled=$(now)
cli "$A" neighbor "$B" enable >/dev/null || fail "cannot enable neighbor $B on A"
until established "$B" "$A"; do
  past_deadline && fail "session A-B not established"
  kill -0 "$injector_timeout" 2>/dev/null || fail "the injector exited"
  sleep 0.1
done
up=$(now)
until [ "$(paths "$B")" = "$routes" ]; do
  past_deadline && fail "B holds $(paths "$B") of $routes routes"
  kill -0 "$injector_timeout" 2>/dev/null || fail "the injector exited"
  sleep 0.1
done
done_at=$(now)
kill -0 "$injector_timeout" 2>/dev/null || fail "the injector exited"
rss_a2=$(rss_kb "$gobgpd_a_timeout"); rss_b1=$(rss_kb "$gobgpd_b_timeout")
sample=$(cli "$B" neighbor "$A" -j | grep -o '"received":{[^}]*}' | head -1)

load_s=$(elapsed "$load_start" "$loaded")
prop_s=$(elapsed "$up" "$done_at")
connect_s=$(elapsed "$enabled" "$up")
total_s=$(elapsed "$enabled" "$done_at")
rate() { awk -v n="$routes" -v s="$1" 'BEGIN { if (s > 0) printf "%d", n / s; else print "-" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per100k() { awk -v a="$1" -v b="$2" -v n="$routes" 'BEGIN { printf "%.1f", (b - a) / 1024 * 100000 / n }'; }

cat <<EOF

GoBGP $(gobgpd --version | awk '{print $3}'), $routes VPNv4 routes ($(( (routes + per_rd - 1) / per_rd )) RDs, $(( (routes + per_rt - 1) / per_rt )) route targets and next hops, VXLAN encapsulation), $(nproc) vCPUs, loopback.
Injector: ${sent_line#sent }. B's messages from A: ${sample#\"received\":}.

| phase | seconds | routes/s |
|---|---|---|
| load: injector's first UPDATE -> A's RIB holds all (eBGP) | $load_s | $(rate "$load_s") |
| propagation: A-B session Established -> B's RIB holds all (iBGP) | $prop_s | $(rate "$prop_s") |
| (session: \`neighbor enable\` on A -> Established; GoBGP's 5-10 s connect delay) | $connect_s | |
| (enable -> B holds all) | $total_s | |

| gobgpd | VmRSS before (MB) | VmRSS after (MB) | MB per 100,000 routes |
|---|---|---|---|
| A, loaded (Adj-RIB-In + Loc-RIB) | $(mb "$rss_a0") | $(mb "$rss_a1") | $(per100k "$rss_a0" "$rss_a1") |
| A, after advertising to B | $(mb "$rss_a1") | $(mb "$rss_a2") | $(per100k "$rss_a1" "$rss_a2") |
| B, received (Adj-RIB-In + Loc-RIB) | $(mb "$rss_b0") | $(mb "$rss_b1") | $(per100k "$rss_b0" "$rss_b1") |
EOF
if [ "$show" -gt 0 ]; then
  echo
  echo "First $show of B's routes:"
  cli "$B" global rib -a vpnv4 | head -n "$((show + 1))"
fi

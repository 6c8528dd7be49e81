#!/usr/bin/env bash
# vnet bench dataplane: vnet's data plane side by side with its anchors, in one run.
#
# Builds the same topology for every path: two host namespaces on an underlay bridge (MTU 1500), one
# VM namespace behind each host, and measures VM1 -> VM2 with iperf3 and ping inside the VMs:
#   limit      veth routing without overlay (VM1 -veth- host1 -underlay- host2 -veth- VM2, ip_forward)
#   vxlan      Linux kernel VXLAN in each host + a bridge to the VM's veth (VM MTU 1450)
#   ovs        Open vSwitch userspace datapath (datapath_type=netdev) with VXLAN ports, one private
#              ovsdb-server + ovs-vswitchd per host namespace (VM MTU 1450, tx checksum offload off)
#   wireguard  wireguard-go between the hosts, the VMs routed through it (VM MTU 1420)
#   vnet       a vnet lab (./vnet lab up): 2 hosts, 1 network, 1 VM per host, tokens on (VM MTU 1456)
# Every path is built once up front; each repetition measures every path in turn (interleaved):
# TCP 1 and 4 streams, UDP 64-byte packets at full speed, ping RTT, and the whole machine's busy CPU
# time per Gbit during the 1-stream TCP run (/proc/stat). Medians over repetitions; ratios to vxlan
# and to limit are taken per repetition, then their median. Prints one Markdown table.
#
# Usage (root): sudo ./vnet bench dataplane [--reps N] [--seconds S] [--write docs/benchmarks.md]
#   or          vnet-bench/scripts/dataplane-bench.sh [same options]
# Missing tools are installed with apt-get. Everything created (namespaces, devices, processes, OVS
# and WireGuard run files, the lab) is removed on exit, also on failure or Ctrl-C.
set -uo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
reps=3
seconds=5
write=""
argv=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="${2:?--reps needs a number}"; shift 2 ;;
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --write) write="${2:?--write needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dataplane-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "dataplane-bench: --reps must be a positive integer" >&2; exit 2; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "dataplane-bench: --seconds must be a positive integer" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "dataplane-bench: needs root (namespaces, TAP devices)" >&2; exit 1; }

paths=(limit vxlan ovs wireguard vnet)
declare -A label=(
  [limit]="limit: veth, routed, no overlay"
  [vxlan]="vxlan: Linux kernel VXLAN + bridge"
  [ovs]="ovs: Open vSwitch 3.1 userspace + VXLAN"
  [wireguard]="wireguard: wireguard-go"
  [vnet]="vnet: vnet lab (VNP, tokens on)"
)
declare -A short=([limit]=limit [vxlan]=vxlan [ovs]=ovs [wireguard]=wg)
lab=vbench                      # the vnet lab: its namespaces are vn-vbench-*
wg_ifs=(vbwg1 vbwg2)            # wireguard-go's UAPI sockets live in the shared /var/run/wireguard
started=$(date +%s)
# Upper bound for every daemon: the whole run as estimated, plus a generous margin.
daemon_max=$(( 900 + (reps + 1) * ${#paths[@]} * (3 * seconds + 40) ))

exec 8>&2   # progress goes here, also from a trap that runs while a redirected builtin waits
log() { echo "[$(date +%H:%M:%S)] $*" >&8; }

# ---------------------------------------------------------------- one run at a time, and cleanup
exec 9>/run/vb-dataplane-bench.lock
flock -n 9 || { echo "dataplane-bench: another run holds /run/vb-dataplane-bench.lock" >&2; exit 1; }
work="$(mktemp -d /tmp/vb-dataplane.XXXXXX)"
: > "$work/pids"
: > "$work/namespaces"

our_namespaces() {
  local p
  for p in limit vxlan ovs wg; do
    for n in v2 v1 h2 h1 fab; do echo "vb-$p-$n"; done
  done
}

cleanup() {
  set +e
  trap - EXIT INT TERM
  local pid ns i
  # Daemons we started (each one under `timeout`, which passes the signal on).
  while read -r pid; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done < "$work/pids"
  for i in $(seq 1 30); do
    local alive=0
    while read -r pid; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1; done < "$work/pids"
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  while read -r pid; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; done < "$work/pids"
  timeout 120 "$root/vnet" lab down "$lab" >/dev/null 2>&1
  for ns in $(our_namespaces); do
    ip netns list 2>/dev/null | grep -qx "$ns\( .*\)\{0,1\}" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    timeout 10 ip netns del "$ns" 2>/dev/null
  done
  for i in "${wg_ifs[@]}"; do rm -f "/var/run/wireguard/$i.sock"; done
  rmdir /var/run/wireguard 2>/dev/null
  rm -rf "$work"
  rm -f /run/vb-dataplane-bench.lock
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- tools
ensure_tools() {
  local missing=() c
  command -v ip >/dev/null || missing+=(iproute2)
  command -v ss >/dev/null || missing+=(iproute2)
  command -v ping >/dev/null || missing+=(iputils-ping)
  command -v iperf3 >/dev/null || missing+=(iperf3)
  command -v ethtool >/dev/null || missing+=(ethtool)
  command -v sysctl >/dev/null || missing+=(procps)
  command -v jq >/dev/null || missing+=(jq)
  command -v ovs-vswitchd >/dev/null || missing+=(openvswitch-switch)
  command -v wireguard-go >/dev/null || missing+=(wireguard-go)
  command -v wg >/dev/null || missing+=(wireguard-tools)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  command -v apt-get >/dev/null || { echo "dataplane-bench: missing ${missing[*]} and no apt-get" >&2; return 1; }
  # openvswitch-switch tries to start its service on install; policy-rc.d may deny it, and without
  # systemd nothing starts anyway. We never use the system instance: every daemon here is private.
  if ! DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${missing[@]}" >"$work/apt.log" 2>&1; then
    timeout 300 apt-get update -qq >>"$work/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${missing[@]}" >>"$work/apt.log" 2>&1 \
      || { tail -5 "$work/apt.log" >&2; return 1; }
  fi
  # If the package started its system service (a systemd machine), leave it; it uses other paths.
  for c in ip ping iperf3 ethtool jq; do command -v "$c" >/dev/null || { echo "dataplane-bench: $c still missing" >&2; return 1; }; done
}
ensure_tools || exit 1

# ---------------------------------------------------------------- building blocks
# Each path is built in a subshell with `set -e`; the first failing command becomes its reason.
nsx() { local ns="$1"; shift; timeout 20 ip netns exec "$ns" "$@"; }
addns() {
  echo "$1" >> "$work/namespaces"
  timeout 10 ip netns add "$1"
  ip -n "$1" link set lo up
  nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
# A daemon in a namespace, bounded by timeout; its PID (timeout's) is recorded for the cleanup.
daemon() {
  local ns="$1" logfile="$2"; shift 2
  timeout -k 5 "$daemon_max" ip netns exec "$ns" "$@" >>"$logfile" 2>&1 < /dev/null &
  echo $! >> "$work/pids"
}
wait_for() { # wait_for TRIES COMMAND...: retries every 0.1 s
  local tries="$1"; shift
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@"
}

# The common skeleton: fabric bridge, two hosts on it (underlay0, 10.255.0.1/2), a VM behind each
# host through a veth pair (VM side eth0, host side vm0) with the given VM MTU.
skeleton() {
  local p="$1" mtu="$2" i
  local fab="vb-$p-fab"
  addns "$fab"
  ip -n "$fab" link add br0 type bridge
  ip -n "$fab" link set br0 up
  for i in 1 2; do
    local h="vb-$p-h$i" v="vb-$p-v$i"
    addns "$h"
    addns "$v"
    ip -n "$fab" link add "u$i" mtu 1500 type veth peer name underlay0 netns "$h" mtu 1500
    ip -n "$fab" link set "u$i" master br0 up
    ip -n "$h" addr add "10.255.0.$i/24" dev underlay0
    ip -n "$h" link set underlay0 up
    ip -n "$h" link add vm0 mtu "$mtu" type veth peer name eth0 netns "$v" mtu "$mtu"
    ip -n "$h" link set vm0 up
    ip -n "$v" link set eth0 up
  done
}

routed_vms() { # VM i in 10.1.i.0/24 behind host i, which is its gateway 10.1.i.1
  local p="$1" i
  for i in 1 2; do
    ip -n "vb-$p-h$i" addr add "10.1.$i.1/24" dev vm0
    nsx "vb-$p-h$i" sysctl -qw net.ipv4.ip_forward=1
    ip -n "vb-$p-v$i" addr add "10.1.$i.2/24" dev eth0
    ip -n "vb-$p-v$i" route add default via "10.1.$i.1"
  done
}

build_limit() {
  skeleton limit 1500
  routed_vms limit
  ip -n vb-limit-h1 route add 10.1.2.0/24 via 10.255.0.2
  ip -n vb-limit-h2 route add 10.1.1.0/24 via 10.255.0.1
  echo "vb-limit-v1 vb-limit-v2 10.1.2.2"
}

build_vxlan() {
  skeleton vxlan 1450
  local i
  for i in 1 2; do
    local h="vb-vxlan-h$i"
    ip -n "$h" link add vx0 type vxlan id 100 local "10.255.0.$i" remote "10.255.0.$((3 - i))" dstport 4789 dev underlay0
    ip -n "$h" link add brv type bridge
    ip -n "$h" link set vx0 master brv up
    ip -n "$h" link set vm0 master brv
    ip -n "$h" link set brv up
    ip -n "vb-vxlan-v$i" addr add "10.1.0.1$i/24" dev eth0
  done
  echo "vb-vxlan-v1 vb-vxlan-v2 10.1.0.12"
}

build_ovs() {
  skeleton ovs 1450
  local i
  for i in 1 2; do
    local h="vb-ovs-h$i" d="$work/ovs-h$i"
    mkdir -p "$d"
    local env=(env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" OVS_SYSCONFDIR="$d")
    local vsctl=("${env[@]}" timeout 20 ovs-vsctl --db="unix:$d/db.sock" --timeout=15)
    timeout 20 ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    daemon "$h" "$d/ovsdb-server.out" "${env[@]}" ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
      --unixctl="$d/ovsdb-server.ctl" --pidfile="$d/ovsdb-server.pid" --log-file="$d/ovsdb-server.log" --no-chdir
    wait_for 100 test -S "$d/db.sock"
    "${vsctl[@]}" --no-wait init
    daemon "$h" "$d/ovs-vswitchd.out" "${env[@]}" ovs-vswitchd "unix:$d/db.sock" \
      --unixctl="$d/ovs-vswitchd.ctl" --pidfile="$d/ovs-vswitchd.pid" --log-file="$d/ovs-vswitchd.log" --no-chdir
    wait_for 100 test -S "$d/ovs-vswitchd.ctl"
    # br-phy holds the underlay port and the host's underlay address (the VTEP); br-int the VM port
    # and the VXLAN port. The userspace datapath routes and resolves the tunnel through br-phy.
    "${vsctl[@]}" add-br br-phy -- set bridge br-phy datapath_type=netdev
    "${vsctl[@]}" add-port br-phy underlay0
    ip -n "$h" addr flush dev underlay0
    ip -n "$h" addr add "10.255.0.$i/24" dev br-phy
    ip -n "$h" link set br-phy up
    "${vsctl[@]}" add-br br-int -- set bridge br-int datapath_type=netdev
    "${vsctl[@]}" add-port br-int vm0
    "${vsctl[@]}" add-port br-int vx0 -- set interface vx0 type=vxlan \
      options:remote_ip="10.255.0.$((3 - i))" options:local_ip="10.255.0.$i" options:key=100
    ip -n "vb-ovs-v$i" addr add "10.1.0.1$i/24" dev eth0
    # With the userspace datapath, veth checksum offload leaves TCP checksums unfilled.
    nsx "vb-ovs-v$i" ethtool -K eth0 tx off >/dev/null
  done
  # Resolve the VTEPs' MACs (ARP through br-phy) before the first tunnelled packet.
  wait_for 50 nsx vb-ovs-h1 ping -c 1 -W 1 10.255.0.2
  wait_for 50 nsx vb-ovs-h2 ping -c 1 -W 1 10.255.0.1
  echo "vb-ovs-v1 vb-ovs-v2 10.1.0.12"
}

build_wireguard() {
  skeleton wg 1420
  routed_vms wg
  local i
  for i in 1 2; do
    local h="vb-wg-h$i" d="$work/wg-h$i" dev="${wg_ifs[$((i - 1))]}"
    mkdir -p "$d"
    [ ! -e "/var/run/wireguard/$dev.sock" ] || { echo "wireguard-go socket $dev.sock already exists" >&2; return 1; }
    (umask 077; wg genkey > "$d/private")
    wg pubkey < "$d/private" > "$d/public"
    daemon "$h" "$d/wireguard-go.log" env LOG_LEVEL=error WG_PROCESS_FOREGROUND=1 \
      WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$dev"
    wait_for 100 test -S "/var/run/wireguard/$dev.sock"
  done
  for i in 1 2; do
    local j=$((3 - i)) h="vb-wg-h$i" dev="${wg_ifs[$((i - 1))]}"
    nsx "$h" wg set "$dev" private-key "$work/wg-h$i/private" listen-port 51820 \
      peer "$(cat "$work/wg-h$j/public")" endpoint "10.255.0.$j:51820" allowed-ips "10.1.$j.0/24,10.200.0.$j/32"
    ip -n "$h" addr add "10.200.0.$i/24" dev "$dev"
    ip -n "$h" link set "$dev" up
    ip -n "$h" route add "10.1.$j.0/24" dev "$dev"
  done
  echo "vb-wg-v1 vb-wg-v2 10.1.2.2"
}

build_vnet() {
  local topology="$work/vnet-topology.yaml"
  cat > "$topology" <<YAML
name: $lab
underlay: {subnet: 10.255.0.0/24, mtu: 1500}
hosts: [{name: host1, address: 10.255.0.1}, {name: host2, address: 10.255.0.2}]
networks: [{name: net, id: 7, subnet: 10.1.0.0/24}]
vms:
  - {name: vm1, network: net, host: host1, ip: 10.1.0.11}
  - {name: vm2, network: net, host: host2, ip: 10.1.0.12}
YAML
  timeout 120 "$root/vnet" lab down "$lab" >/dev/null 2>&1 || true
  timeout 300 "$root/vnet" lab up "$topology" >&2
  echo "vn-$lab-v-vm1 vn-$lab-v-vm2 10.1.0.12"
}

declare -A V1 V2 DST FAIL
build() {
  local p="$1"
  log "building $p"
  # A standalone subshell, so that `set -e` holds inside it; the endpoints are its last line.
  (set -eE; trap 'echo "FAILED: $BASH_COMMAND" >&2' ERR; "build_$p" > "$work/$p.endpoints") 2>>"$work/$p.build.log"
  local rc=$?
  [ "$rc" -eq 0 ] && read -r V1[$p] V2[$p] DST[$p] < <(tail -1 "$work/$p.endpoints")
  if [ "$rc" -ne 0 ] || [ -z "${DST[$p]:-}" ]; then
    FAIL[$p]="build failed: $(grep -v -e '^[[:space:]]*$' -e '^FAILED: return' "$work/$p.build.log" | tail -2 \
      | tr '|' '/' | paste -sd ';' | sed 's/;/; /g' | cut -c1-240)"
    log "$p: ${FAIL[$p]}"
    return
  fi
  # Connectivity (ARP, learning, a vnet pair's first token) before anything is measured.
  if ! wait_for 5 nsx "${V1[$p]}" ping -n -c 1 -W 2 "${DST[$p]}"  >>"$work/$p.build.log" 2>&1; then
    FAIL[$p]="no connectivity: ping ${V1[$p]} -> ${DST[$p]} unanswered"
    log "$p: ${FAIL[$p]}"
  fi
}

# ---------------------------------------------------------------- measurements
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
clk_tck=$(getconf CLK_TCK)

# iperf3_run P NAME ARGS...: a one-off server in VM2, the client in VM1; JSON to $work/P.NAME.json
iperf3_run() {
  local p="$1" name="$2"; shift 2
  local port=5201 limit=$((seconds + 20))
  timeout -k 2 "$limit" ip netns exec "${V2[$p]}" iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
  local server=$!
  wait_for 50 sh -c "ip netns exec '${V2[$p]}' ss -Hltn 'sport = :$port' | grep -q ."
  timeout -k 2 "$limit" ip netns exec "${V1[$p]}" iperf3 -c "${DST[$p]}" -p "$port" -t "$seconds" -J "$@" \
    > "$work/$p.$name.json" 2>&1
  local rc=$?
  # The one-off server ends with its test; after a failed client, stop it rather than wait.
  for _ in $(seq 1 30); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  return $rc
}

record() { echo "$1 $2 $3 $4" >> "$work/results"; }   # path rep metric value

measure() { # measure P REP (REP 0 = warm-up, not recorded)
  local p="$1" r="$2" j0 j1 bytes gbps
  if [ "$r" -eq 0 ]; then
    local keep=$seconds; seconds=2; iperf3_run "$p" warm; seconds=$keep; return
  fi
  # ping RTT: 200 pings at 10 ms
  if nsx "${V1[$p]}" ping -n -c 200 -i 0.01 -W 1 "${DST[$p]}" > "$work/$p.ping" 2>&1 || grep -q 'time=' "$work/$p.ping"; then
    sed -n 's/.*time=\([0-9.]*\).*/\1/p' "$work/$p.ping" | sort -g | awk -v p="$p" -v r="$r" '{a[NR]=$1}
      END { if (NR) { i50=int(NR*0.50); if (i50<NR*0.50) i50++; i99=int(NR*0.99); if (i99<NR*0.99) i99++;
                      print p, r, "p50", a[i50]; print p, r, "p99", a[i99]; print p, r, "pings", NR } }' >> "$work/results"
  fi
  sleep 0.5
  # TCP, 1 stream, with the machine's busy CPU time around it
  j0=$(busy_jiffies)
  if iperf3_run "$p" tcp1; then
    j1=$(busy_jiffies)
    bytes=$(jq -r '.end.sum_received.bytes // empty' "$work/$p.tcp1.json")
    gbps=$(jq -r '.end.sum_received.bits_per_second // empty' "$work/$p.tcp1.json")
    if [ -n "$bytes" ] && [ -n "$gbps" ]; then
      record "$p" "$r" tcp1 "$(awk -v b="$gbps" 'BEGIN { printf "%.4f", b / 1e9 }')"
      record "$p" "$r" cpu "$(awk -v j="$((j1 - j0))" -v t="$clk_tck" -v b="$bytes" 'BEGIN { if (b > 0) printf "%.4f", (j / t) / (b * 8 / 1e9); else print "inf" }')"
    fi
  else
    log "$p rep $r: TCP 1 stream failed: $(jq -r '.error // empty' "$work/$p.tcp1.json" 2>/dev/null | head -1)"
  fi
  sleep 0.5
  if iperf3_run "$p" tcp4 -P 4; then
    gbps=$(jq -r '.end.sum_received.bits_per_second // empty' "$work/$p.tcp4.json")
    [ -n "$gbps" ] && record "$p" "$r" tcp4 "$(awk -v b="$gbps" 'BEGIN { printf "%.4f", b / 1e9 }')"
  else
    log "$p rep $r: TCP 4 streams failed: $(jq -r '.error // empty' "$work/$p.tcp4.json" 2>/dev/null | head -1)"
  fi
  sleep 0.5
  # UDP, 64-byte payloads, as fast as the sender can: delivered packets per second and loss
  if iperf3_run "$p" udp -u -l 64 -b 0; then
    jq -r --arg p "$p" --arg r "$r" '.end as $e
      | ($e.sum_received.packets - $e.sum_received.lost_packets) as $got
      | "\($p) \($r) pps \($got / $e.sum_received.seconds)",
        "\($p) \($r) loss \(if $e.sum_sent.packets > 0 then 100 * ($e.sum_sent.packets - $got) / $e.sum_sent.packets else 100 end)"' \
      "$work/$p.udp.json" >> "$work/results" 2>/dev/null
  else
    log "$p rep $r: UDP failed: $(jq -r '.error // empty' "$work/$p.udp.json" 2>/dev/null | head -1)"
  fi
  sleep 0.5
}

# ---------------------------------------------------------------- the run
log "reps $reps, $seconds s per iperf3 run; work dir $work"
for ns in $(our_namespaces); do
  if ip netns list | grep -qx "$ns\( .*\)\{0,1\}"; then
    log "removing $ns, left by an earlier run of this script"
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns"
  fi
done
: > "$work/results"
for p in "${paths[@]}"; do build "$p"; done
j0=$(busy_jiffies); sleep 2; j1=$(busy_jiffies)
idle_cores=$(awk -v j="$((j1 - j0))" -v t="$clk_tck" 'BEGIN { printf "%.2f", j / t / 2 }')
log "all paths built; busy cores while idle: $idle_cores"
for p in "${paths[@]}"; do [ -z "${FAIL[$p]:-}" ] && { log "warm-up $p"; measure "$p" 0; }; done
for r in $(seq 1 "$reps"); do
  for p in "${paths[@]}"; do
    [ -n "${FAIL[$p]:-}" ] && continue
    log "rep $r/$reps: $p"
    measure "$p" "$r"
  done
done

# ---------------------------------------------------------------- the table
median() { sort -g | awk '{a[NR]=$1} END { if (NR == 0) exit; if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2 }'; }
values() { awk -v p="$1" -v m="$2" '$1 == p && $3 == m { print $4 }' "$work/results"; }
med() { values "$1" "$2" | median; }
count() { values "$1" "$2" | wc -l; }
# Median over repetitions of value(P)/value(BASE) for metric M, both from the same repetition.
ratio() {
  awk -v p="$1" -v b="$2" -v m="$3" '$3 == m && $1 == p { v[$2] = $4 } $3 == m && $1 == b { w[$2] = $4 }
    END { for (r in v) if (r in w && w[r] > 0) print v[r] / w[r] }' "$work/results" | median
}
fmt() { # fmt VALUE DECIMALS: "–" when empty
  [ -n "$1" ] && awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }' || printf '–'
}
ratios() { # "t1 / t4 / udp" against BASE
  local p="$1" b="$2"
  if [ -n "${FAIL[$b]:-}" ]; then printf '%s failed' "$b"; return; fi
  printf '%s / %s / %s' "$(fmt "$(ratio "$p" "$b" tcp1)" 2)" "$(fmt "$(ratio "$p" "$b" tcp4)" 2)" "$(fmt "$(ratio "$p" "$b" pps)" 2)"
}
table() {
  echo "| path | TCP 1 stream Gbit/s | TCP 4 streams Gbit/s | UDP 64 B kpps delivered (loss) | ping p50 / p99 ms | CPU s per Gbit (TCP 1) | × vxlan: TCP 1 / TCP 4 / UDP | × limit: TCP 1 / TCP 4 / UDP |"
  echo "|---|---|---|---|---|---|---|---|"
  local p
  for p in "${paths[@]}"; do
    if [ -n "${FAIL[$p]:-}" ]; then
      echo "| ${label[$p]} | ${FAIL[$p]} | | | | | | |"
      continue
    fi
    local note=""
    local n; n=$(count "$p" tcp1)
    [ "$n" -lt "$reps" ] && note=" ($n of $reps runs)"
    local pps; pps=$(med "$p" pps)
    local kpps=""; [ -n "$pps" ] && kpps=$(awk -v v="$pps" 'BEGIN { print v / 1000 }')
    printf '| %s | %s%s | %s | %s (%s %%) | %s / %s | %s | %s | %s |\n' "${label[$p]}" \
      "$(fmt "$(med "$p" tcp1)" 2)" "$note" "$(fmt "$(med "$p" tcp4)" 2)" \
      "$(fmt "$kpps" 0)" "$(fmt "$(med "$p" loss)" 0)" \
      "$(fmt "$(med "$p" p50)" 3)" "$(fmt "$(med "$p" p99)" 3)" "$(fmt "$(med "$p" cpu)" 3)" \
      "$(ratios "$p" vxlan)" "$(ratios "$p" limit)"
  done
}
table_text="$(table)"
elapsed=$(( $(date +%s) - started ))
echo
echo "$table_text"
echo
echo "Medians of $reps interleaved repetition$([ "$reps" -eq 1 ] || echo s), $seconds s per iperf3 run; busy cores while idle (all paths up): $idle_cores; run time $((elapsed / 60)) min $((elapsed % 60)) s."

# ---------------------------------------------------------------- the reading, from the numbers
ok() { [ -z "${FAIL[$1]:-}" ] && [ -n "$(med "$1" tcp1)" ]; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a < b) }'; }
reading() {
  local s="" parts=() v x
  if ! ok vnet; then
    echo "The vnet path produced no numbers in this run (${FAIL[vnet]:-no TCP result}); the other rows stand as anchors."
    return
  fi
  s+="vnet carried $(fmt "$(med vnet tcp1)" 2) Gbit/s on one TCP stream and $(fmt "$(med vnet tcp4)" 2) on four"
  ok vxlan && parts+=("$(fmt "$(ratio vnet vxlan tcp1)" 2)× kernel VXLAN")
  ok limit && parts+=("$(fmt "$(ratio vnet limit tcp1)" 2)× the routed-veth limit")
  ok ovs && parts+=("$(fmt "$(ratio vnet ovs tcp1)" 2)× OVS userspace")
  ok wireguard && parts+=("$(fmt "$(ratio vnet wireguard tcp1)" 2)× wireguard-go")
  if [ ${#parts[@]} -gt 0 ]; then
    s+=" (one stream: $(printf '%s, ' "${parts[@]}" | sed 's/, $//'))"
  fi
  s+=". "
  x="$(ratio vnet vxlan tcp1)"
  if ok vxlan && below "$x" 0.3; then
    s+="That puts vnet with the userspace forwarders, which move a frame or two per system call, and far from the kernel paths, which hand 64 KB TCP super-frames (TSO/GRO) through; TAP offloads with UDP GSO/GRO are the lever for that gap. "
  elif ok vxlan && below "$x" 0.9; then
    s+="vnet is within reach of the kernel's VXLAN on bulk TCP. "
  elif ok vxlan; then
    s+="vnet matches the kernel's VXLAN on bulk TCP. "
  fi
  s+="It spent $(fmt "$(med vnet cpu)" 2) CPU seconds per Gbit"
  parts=()
  declare -A name=([vxlan]="kernel VXLAN" [ovs]=OVS [wireguard]=wireguard-go)
  for v in vxlan ovs wireguard; do ok "$v" && parts+=("${name[$v]} $(fmt "$(med "$v" cpu)" 2)"); done
  [ ${#parts[@]} -gt 0 ] && s+=" ($(printf '%s, ' "${parts[@]}" | sed 's/, $//'))"
  s+=". With 64-byte UDP at full speed it delivered $(fmt "$(awk -v v="$(med vnet pps)" 'BEGIN { print v / 1000 }')" 0) kpps"
  ok vxlan && s+=" ($(fmt "$(ratio vnet vxlan pps)" 2)× VXLAN)"
  s+=" and lost $(fmt "$(med vnet loss)" 0) % of what iperf3 sent"
  below 10 "$(med vnet loss)" && s+=": the sender outruns the forwarder, which drops at its queues rather than slowing the sender"
  s+="; ping RTT was $(fmt "$(med vnet p50)" 3) ms p50 and $(fmt "$(med vnet p99)" 3) ms p99"
  ok vxlan && s+=" (VXLAN: $(fmt "$(med vxlan p50)" 3) and $(fmt "$(med vxlan p99)" 3))"
  s+=". Every path shares the 2 vCPU with iperf3's sender and receiver, and the machine is shared: compare ratios within this run, not absolute numbers across runs."
  echo "$s"
}

if [ -n "$write" ]; then
  java_bin="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
  jdk_version="$("$java_bin" -version 2>&1 | sed -n 's/.*Runtime Environment \([^ ]*\) .*/\1/p' | head -1)"
  [ -n "$jdk_version" ] || jdk_version="$("$java_bin" -version 2>&1 | head -1)"
  {
    echo
    echo "## $(date +%Y-%m-%d) — data plane side by side (vnet bench dataplane)"
    echo
    echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem/{print $2}') GiB, Linux $(uname -r), JDK $jdk_version."
    echo "Peers: iperf3 $(dpkg-query -W -f='${Version}' iperf3 2>/dev/null), openvswitch-switch $(dpkg-query -W -f='${Version}' openvswitch-switch 2>/dev/null), wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null)."
    echo "Command: \`sudo ./vnet bench dataplane${argv[*]:+ ${argv[*]}}\` ($reps interleaved repetition$([ "$reps" -eq 1 ] || echo s), $seconds s per iperf3 run, medians; run time $((elapsed / 60)) min $((elapsed % 60)) s)."
    echo "Same topology for every path: two host namespaces on an underlay bridge (MTU 1500), one VM namespace behind each; iperf3 and ping run in the VMs (VM1 → VM2). VM MTU: limit 1500, vxlan and ovs 1450, wireguard 1420, vnet 1456. UDP: \`iperf3 -u -l 64 -b 0\`, packets delivered per second and the share of sent packets lost. Ping: 200 at 10 ms. CPU: the whole machine's busy time from /proc/stat during the 1-stream TCP run, per Gbit received (busy cores while idle, every path up: $idle_cores). Ratios are per repetition, then the median."
    echo
    echo "$table_text"
    echo
    echo "Reading: $(reading)"
  } >> "$write"
  log "appended to $write"
fi

#!/usr/bin/env bash
# Issue 6's benchmark in one run: 100,000 VPN-IPv4 routes from one speaker to another, vnet -> vnet
# (bgp-propagation.sh) and then gobgpd -> gobgpd (gobgp-propagation.sh) on this machine, and the ratio
# of their transfer times. Each script prints its own table (memory per 100,000 routes included); this
# one adds the comparison line at the end. No root needed; bounded by the two scripts' own time limits.
#
# Usage: vnet-bench/scripts/bgp-side-by-side.sh [--no-build]
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
build=()
[ "${1:-}" = "--no-build" ] && build=(--no-build)

vnet_out="$(mktemp)"
gobgp_out="$(mktemp)"
trap 'rm -f "$vnet_out" "$gobgp_out"' EXIT

echo "== vnet -> vnet"
"$here/bgp-propagation.sh" "${build[@]}" | tee "$vnet_out"
echo
echo "== gobgpd -> gobgpd"
"$here/gobgp-propagation.sh" | tee "$gobgp_out"

vnet_seconds="$(sed -n 's/^initial table transfer *\([0-9.]*\) s.*/\1/p' "$vnet_out")"
gobgp_seconds="$(sed -n 's/^| propagation: A-B session Established -> B.s RIB holds all (iBGP) | \([0-9.]*\) |.*/\1/p' "$gobgp_out")"
echo
if [ -n "$vnet_seconds" ] && [ -n "$gobgp_seconds" ]; then
  awk -v v="$vnet_seconds" -v g="$gobgp_seconds" 'BEGIN {
    printf "100,000 VPNv4 routes, speaker -> speaker: vnet %.2f s, GoBGP %.2f s: vnet takes %.2fx GoBGP'"'"'s time (goal: <= 1)\n", v, g, v / g }'
else
  echo "could not read both transfer times (vnet: '${vnet_seconds}', GoBGP: '${gobgp_seconds}')" >&2
  exit 1
fi

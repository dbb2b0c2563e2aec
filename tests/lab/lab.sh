#!/usr/bin/env bash
# The ferrovs lab: network namespaces joined by a bridge, private addresses only.
#
#   fvs-c   (client)   c0   10.99.0.2/24               --+
#   fvs-lb  (director) fvs-lb0  (no kernel IP; DPDK af_packet)  +-- bridge br0 in fvs-br
#   fvs-rsN (servers)  eth0 10.99.1.1N/24 gw 10.99.1.1 --+   HTTP on :8080 answering "rsN"
#
# The director owns 10.99.0.1 and 10.99.1.1 (configs/lab.yaml) and the VIP 10.99.0.100.
# Usage: lab.sh up [N_RS] | down | hugepages | exec NS CMD...
#
# LAB_MODE selects how the real servers are set up (default nat):
#   nat      default route via the director (10.99.1.1): replies return through it
#   fullnat  no route to the clients at all: replies can only go to the local address
#   dr       VIP 10.99.0.100 on lo, arp_ignore/arp_announce, direct route to clients
#   tun      as dr, plus the userspace IPIP/GUE/GRE decapsulator (no ipip, fou or
#            ip_gre module here); GUE arrives on UDP port 6080
# Servers answer HTTP on 8080 and 80 (DR and TUN need the virtual port).
#
# The VRRP lab (tests/lab_vrrp*.rs) adds, all on the same bridge:
#   LAB_DIRECTORS=2   a second director namespace fvs-lb2, set up as fvs-lb (veth
#                     fvs-lb0 inside, peer lb2-br, MAC 02:00:00:00:00:02)
#   LAB_KEEPALIVED=N  namespaces fvs-ka1..N for keepalived, eth0 (peer kaN-br)
#                     10.99.0.(4+N)/24 and 10.99.1.(4+N)/24: ka1 = 10.99.0.5
#   LAB_GW            the real servers' default route in nat mode (10.99.1.1: the
#                     director's address, or the VRRP lab's virtual gateway)
set -euo pipefail
PREFIX=fvs
NRS=${2:-3}
MODE=${LAB_MODE:-nat}
VIP=10.99.0.100
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=/tmp/ferrovs-lab
LB_MAC=02:00:00:00:00:01
LB2_MAC=02:00:00:00:00:02
DIRECTORS=${LAB_DIRECTORS:-1}
KEEPALIVED=${LAB_KEEPALIVED:-0}
GW=${LAB_GW:-10.99.1.1}
case "$DIRECTORS" in 1|2) ;; *) echo "LAB_DIRECTORS must be 1 or 2" >&2; exit 2 ;; esac
case "$KEEPALIVED" in [0-9]) ;; *) echo "LAB_KEEPALIVED must be 0..9" >&2; exit 2 ;; esac

nsx() { local ns=$1; shift; ip netns exec "$PREFIX-$ns" "$@"; }

# Kernel senders on veth leave checksums to offload and hand over GSO
# super-packets; the director sees raw frames, so both must be off.
no_offload() { nsx "$1" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true; }

veth_to_bridge() { # ns ifname peer-name
  # Both ends are created directly inside their namespaces, so names such as
  # eth0 never collide with the host's interfaces.
  ip link add "$3" netns "$PREFIX-br" type veth peer name "$2" netns "$PREFIX-$1"
  nsx br ip link set "$3" master br0 up
}

# Routing of one real server for the forwarding method under test.
rs_mode() {
  local ns=$1
  case "$MODE" in
    nat) nsx "$ns" ip route add default via "$GW" ;;
    fullnat) ;;
    dr|tun)
      nsx "$ns" ip addr add "$VIP/32" dev lo
      nsx "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
        net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
      # Direct return: clients are reached on the shared segment, from the VIP.
      nsx "$ns" ip route add 10.99.0.0/24 dev eth0 src "$VIP"
      if [ "$MODE" = tun ]; then
        nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
          net.ipv4.conf.eth0.rp_filter=0
        # `ip netns exec` directly (not the nsx function) so $! is the process itself.
        ip netns exec "$PREFIX-$ns" python3 "$HERE/ipip_decap.py" --tun tun0 --gue-port 6080 --lifetime 3600 \
          --count-file "$RUN/$ns.decap" >"$RUN/$ns-decap.log" 2>&1 &
        echo $! > "$RUN/$ns-decap.pid"
      fi ;;
    *) echo "unknown LAB_MODE $MODE" >&2; exit 2 ;;
  esac
}

# A director namespace: veth fvs-lb0 (no kernel IP; DPDK af_packet) with `mac`.
director_ns() { # ns peer-name mac
  local ns=$1
  veth_to_bridge "$ns" fvs-lb0 "$2"
  nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  nsx "$ns" ip link set fvs-lb0 address "$3"
  nsx "$ns" ip link set fvs-lb0 up
  no_offload "$ns" fvs-lb0
  # The back door: af_packet lets the director namespace's own kernel see every
  # frame on fvs-lb0 too. Once a host-path twin gives that kernel the port's
  # addresses, it must neither answer ARP on fvs-lb0 (arp_ignore=8) nor accept
  # what arrives there (strict reverse path: the twin is the way back), nor
  # forward. Only the twin reaches it, as on a NIC bound to DPDK.
  nsx "$ns" sysctl -qw net.ipv4.conf.fvs-lb0.arp_ignore=8 net.ipv4.conf.fvs-lb0.rp_filter=1 \
    net.ipv4.conf.fvs-lb0.forwarding=0 net.ipv4.ip_forward=0
}

# A keepalived namespace fvs-kaN: kernel eth0 with 10.99.0.(4+N) first (its
# VRRP primary address) and 10.99.1.(4+N).
keepalived_ns() { # N
  local ns=ka$1 host=$((4 + $1))
  veth_to_bridge "$ns" eth0 "$ns-br"
  nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  nsx "$ns" ip addr add "10.99.0.$host/24" dev eth0
  nsx "$ns" ip addr add "10.99.1.$host/24" dev eth0
  nsx "$ns" ip link set eth0 up
  no_offload "$ns" eth0
}

down() {
  if [ -d "$RUN" ]; then
    for f in "$RUN"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  fi
  for ns in $(ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$RUN"
}

# DPDK's EAL wants hugepages; reserve a few and mount hugetlbfs if missing.
hugepages() {
  local f=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  if [ -w "$f" ] && [ "$(cat "$f")" -lt 512 ]; then echo 512 > "$f" || true; fi
  mkdir -p /dev/hugepages
  mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages || true
}

up() {
  down
  hugepages
  mkdir -p "$RUN"
  local extra=""
  if [ "$DIRECTORS" = 2 ]; then extra="lb2"; fi
  for k in $(seq 1 "$KEEPALIVED"); do extra="$extra ka$k"; done
  for ns in br lb c $(seq -f 'rs%g' 1 "$NRS") $extra; do ip netns add "$PREFIX-$ns"; nsx "$ns" ip link set lo up; done
  nsx br ip link add br0 type bridge
  nsx br ip link set br0 up
  nsx br sysctl -qw net.ipv6.conf.all.disable_ipv6=1

  director_ns lb lb0-br "$LB_MAC"
  if [ "$DIRECTORS" = 2 ]; then director_ns lb2 lb2-br "$LB2_MAC"; fi
  for k in $(seq 1 "$KEEPALIVED"); do keepalived_ns "$k"; done

  veth_to_bridge c c0 c0-br
  nsx c ip addr add 10.99.0.2/24 dev c0
  nsx c ip link set c0 up
  nsx c ip route add default via 10.99.0.1
  no_offload c c0

  for i in $(seq 1 "$NRS"); do
    veth_to_bridge "rs$i" eth0 "rs$i-br"
    nsx "rs$i" ip addr add "10.99.1.1$i/24" dev eth0
    nsx "rs$i" ip link set eth0 up
    rs_mode "rs$i"
    no_offload "rs$i" eth0
    mkdir -p "$RUN/www$i"
    echo "rs$i" > "$RUN/www$i/index.html"
    for port in 8080 80; do
      ip netns exec "$PREFIX-rs$i" python3 "$HERE/http_server.py" --port "$port" --dir "$RUN/www$i" \
        >"$RUN/rs$i-$port.log" 2>&1 &
      echo $! > "$RUN/rs$i-$port.pid"
    done
  done
  # Servers are listening before anyone calls them (bounded wait).
  for i in $(seq 1 "$NRS"); do
    for _ in $(seq 1 50); do
      nsx "rs$i" python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",8080),0.2)' 2>/dev/null && break
      sleep 0.1
    done
  done
  echo "lab up ($MODE): client 10.99.0.2, VIP $VIP, $NRS servers 10.99.1.11..$((10 + NRS)), $DIRECTORS director(s), $KEEPALIVED keepalived namespace(s)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  hugepages) hugepages ;;
  exec) shift; ns=$1; shift; nsx "$ns" "$@" ;;
  *) echo "usage: $0 up [N_RS] | down | exec NS CMD..." >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Peers on the namespace lab (tests/lab/lab.sh, LAB_MODE=nat): ferrovs NAT,
# HAProxy (TCP mode) and nginx (stream module), one after the other, each
# pinned to core $LB_CORE, in the director namespace fvs-lb, in front of the
# same three real servers (nginx on 8080, pinned to $AUX_CORE), with the same
# wrk load from fvs-c (pinned to $AUX_CORE):
#   ka     keep-alive requests per second, latency percentiles
#   conn   new connections per second (HTTP/1.1 with "Connection: close")
#   bulk   10 MB objects, throughput
# The keep-alive test runs in $PEER_ROUNDS interleaved rounds (ferrovs,
# haproxy, nginx, ferrovs, haproxy, nginx, ...), each load balancer started
# afresh every round, so machine noise lands on all three alike; conn and bulk
# run once, in round 1, after its keep-alive test. Every JSON line carries its
# round; plot.rs takes the median over rounds. A round starts only if it can
# end within $PEER_BUDGET seconds of the start (judged by the longest round
# after the first), so the script ends before scripts/bench.sh's timeout.
# Usage: peers.sh FERROVS_BIN OUT.jsonl   (root; every step bounded in time)
# Knobs: PEER_SECS (per wrk run, default 5), PEER_ROUNDS (default 5),
#        PEER_BUDGET (default 270 s), LB_CORE, AUX_CORE,
#        PEER_FERROVS_B (a second ferrovs binary, run as "ferrovs-b" right
#        after "ferrovs" in every round: a before/after comparison in one run)
set -euo pipefail
FERROVS=${1:?ferrovs binary}
OUT=${2:?output jsonl}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB="$ROOT/tests/lab/lab.sh"
LUA="$ROOT/bench/scripts/wrk-json.lua"
SECS=${PEER_SECS:-5}
ROUNDS=${PEER_ROUNDS:-5}
FERROVS_B=${PEER_FERROVS_B:-}   # optional second ferrovs binary, "ferrovs-b" in every round (A/B)
BUDGET=${PEER_BUDGET:-270}
T0=$(date +%s)
LB_CORE=${LB_CORE:-1}
AUX_CORE=${AUX_CORE:-0}
RUN=/tmp/ferrovs-lab          # lab.sh's run dir: its `down` kills every *.pid here
WORK=/tmp/ferrovs-bench-peers
VIP=10.99.0.100
LBPIDS=()

log() { echo "[peers $(date +%T)] $*" >&2; }
nsx() { local ns=$1; shift; ip netns exec "fvs-$ns" "$@"; }

cleanup() {
  for p in "${LBPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

stop_lb() {
  for p in "${LBPIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  LBPIDS=()
}

# Kernel proxies need the VIP and the RS-side gateway address on the veth;
# ferrovs owns the port through af_packet and must not share it with the kernel.
kernel_addrs() {
  if [ "$1" = on ]; then
    nsx lb ip addr add $VIP/24 dev fvs-lb0
    nsx lb ip addr add 10.99.1.1/24 dev fvs-lb0
  else
    nsx lb ip addr flush dev fvs-lb0
  fi
}

wait_vip() { # bounded: 20 s
  for _ in $(seq 1 100); do
    nsx c curl -s -m 1 -o /dev/null "http://$VIP/index.html" && return 0
    sleep 0.2
  done
  log "VIP not reachable"; return 1
}

# lb_sched: "RUN_NS WAIT_NS" summed over every thread of the load balancer's
# processes (LBPIDS and their children): time on a CPU, and time runnable but
# waiting for one (/proc/*/task/*/schedstat).
lb_sched() {
  local pids p
  pids=$(for p in "${LBPIDS[@]}"; do echo "$p"; pgrep -P "$p" || true; done)
  for p in $pids; do cat /proc/"$p"/task/*/schedstat 2>/dev/null || true; done |
    awk '{r += $1; w += $2} END {printf "%.0f %.0f\n", r, w}'
}

# wrk_run LB TEST ARGS... : one bounded wrk run, one JSON line appended to OUT.
wrk_run() {
  local lb=$1 test=$2; shift 2
  local o s0 s1 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  s0=$(lb_sched)
  o=$(timeout $((SECS + 20)) ip netns exec fvs-c taskset -c "$AUX_CORE" \
        wrk -t1 -d"${SECS}s" --timeout 2s -s "$LUA" "$@" 2>&1 || true)
  s1=$(lb_sched)
  # The load balancer's share of the CPUs during the run, and the machine's load.
  local cpu
  cpu=$(echo "$s0 $s1" | awk -v l="$load" '{printf "{\"run_ms\":%.0f,\"wait_ms\":%.0f,\"loadavg\":%s}", ($3-$1)/1e6, ($4-$2)/1e6, l}')
  local j
  j=$(echo "$o" | sed -n 's/^WRKJSON //p' | tail -1)
  if [ -z "$j" ]; then
    log "$lb $test: wrk gave no result: $(echo "$o" | tail -3 | tr '\n' ' ')"
    j='{"requests":0,"duration_us":1,"bytes":0,"errors":-1}'
  fi
  echo "{\"lb\":\"$lb\",\"test\":\"$test\",\"round\":$ROUND,\"seconds\":$SECS,\"wrk\":$j,\"lb_cpu\":$cpu}" >> "$OUT"
  log "round $ROUND $lb $test: $j $cpu"
}

measure() {
  local lb=$1
  wrk_run "$lb" ka -c32 "http://$VIP/index.html"
  if [ "$ROUND" = 1 ]; then
    wrk_run "$lb" conn -c32 -H "Connection: close" "http://$VIP/index.html"
    wrk_run "$lb" bulk -c4 "http://$VIP/big.bin"
  fi
}

rs_nginx() { # replace the lab's Python servers on 8080 by nginx (the RS side must not be the bottleneck)
  for i in 1 2 3; do
    # lab.sh's pid file names the wrapper shell, not the server: free the port itself.
    # (The Python server stalls every keep-alive response ~40 ms: Nagle + delayed ACK.)
    nsx "rs$i" fuser -s -k -n tcp 8080 2>/dev/null || true
    rm -f "$RUN/rs$i-8080.pid"
    head -c 10485760 /dev/urandom > "$RUN/www$i/big.bin"
    cat > "$WORK/rs$i.conf" <<EOF
worker_processes 1;
daemon off;
pid $RUN/rs$i-nginx.pid;
error_log $WORK/rs$i.err warn;
worker_rlimit_nofile 16384;
events { worker_connections 8000; }
http {
  access_log off;
  # Small responses in one writev; the bulk object by sendfile.
  sendfile off;
  keepalive_requests 1000000;
  server {
    listen 8080 backlog=4096;
    root $RUN/www$i;
    location = /big.bin { sendfile on; tcp_nopush on; }
  }
}
EOF
  done
  sleep 0.3
  for i in 1 2 3; do
    ip netns exec "fvs-rs$i" taskset -c "$AUX_CORE" nginx -c "$WORK/rs$i.conf" -p "$WORK" >/dev/null 2>&1 &
  done
  for i in 1 2 3; do
    for _ in $(seq 1 50); do
      nsx "rs$i" curl -s -m 1 -o /dev/null http://127.0.0.1:8080/index.html && break
      sleep 0.1
    done
    if ! nsx "rs$i" ss -ltnp 'sport = :8080' | grep -q nginx; then
      log "rs$i: nginx is not the server on 8080"; return 1
    fi
  done
}

tune() {
  for ns in c lb rs1 rs2 rs3; do
    nsx "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1 \
      net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096 >/dev/null 2>&1 || true
  done
}

mkdir -p "$WORK"
: > "$OUT"
if ip netns list | grep -q '^fvs-'; then
  log "a lab (fvs-* namespaces) is already up, probably a running test; waiting up to 60 s"
  for _ in $(seq 1 60); do ip netns list | grep -q '^fvs-' || break; sleep 1; done
  if ip netns list | grep -q '^fvs-'; then log "lab still busy: skipping peers"; exit 3; fi
fi
LAB_MODE=nat bash "$LAB" up >/dev/null
tune
rs_nginx || exit 4
log "lab up, real servers: nginx on 8080 (core $AUX_CORE); load: wrk in fvs-c (core $AUX_CORE); $SECS s per run"

# --- ferrovs (NAT, one worker on core LB_CORE, af_packet on fvs-lb0)
run_ferrovs() { # NAME BINARY
  kernel_addrs off
  ip netns exec fvs-lb taskset -c "$LB_CORE" "$2" run --config "$ROOT/configs/lab.yaml" \
    >>"$WORK/$1.log" 2>&1 &
  LBPIDS=($!)
  if wait_vip; then measure "$1"; fi
  stop_lb
}

# --- HAProxy, TCP mode
cat > "$WORK/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend vip
  bind $VIP:80
  default_backend reals
backend reals
  balance roundrobin
  server rs1 10.99.1.11:8080
  server rs2 10.99.1.12:8080
  server rs3 10.99.1.13:8080
EOF
run_haproxy() {
  kernel_addrs on
  ip netns exec fvs-lb taskset -c "$LB_CORE" haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
  LBPIDS=($!)
  if wait_vip; then measure haproxy; fi
  stop_lb
  kernel_addrs off
}

# --- nginx, stream module
cat > "$WORK/nginx-lb.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
daemon off;
pid $WORK/nginx-lb.pid;
error_log $WORK/nginx-lb.err warn;
worker_rlimit_nofile 16384;
events { worker_connections 8000; }
stream {
  upstream reals { server 10.99.1.11:8080; server 10.99.1.12:8080; server 10.99.1.13:8080; }
  server { listen $VIP:80 backlog=4096; proxy_pass reals; }
}
EOF
run_nginx() {
  kernel_addrs on
  ip netns exec fvs-lb taskset -c "$LB_CORE" nginx -c "$WORK/nginx-lb.conf" -p "$WORK" >>"$WORK/nginx-lb.log" 2>&1 &
  LBPIDS=($!)
  if wait_vip; then measure nginx-stream; fi
  stop_lb
  kernel_addrs off
}

: > "$WORK/ferrovs.log"; : > "$WORK/ferrovs-b.log"; : > "$WORK/haproxy.log"; : > "$WORK/nginx-lb.log"
nlb=3
if [ -n "$FERROVS_B" ]; then nlb=4; fi
longest=$((nlb * (SECS + 8)))   # a keep-alive-only round, until one is timed
for ROUND in $(seq 1 "$ROUNDS"); do
  elapsed=$(( $(date +%s) - T0 ))
  if [ "$ROUND" -gt 1 ] && [ $((elapsed + longest)) -gt "$BUDGET" ]; then
    log "round $ROUND would end past PEER_BUDGET=${BUDGET}s (${elapsed}s used, rounds take ${longest}s): stopping"
    break
  fi
  log "round $ROUND of $ROUNDS (${elapsed}s used of ${BUDGET}s)"
  r0=$(date +%s)
  run_ferrovs ferrovs "$FERROVS"
  if [ -n "$FERROVS_B" ]; then run_ferrovs ferrovs-b "$FERROVS_B"; fi
  run_haproxy
  run_nginx
  took=$(( $(date +%s) - r0 ))
  # Round 1 also runs conn and bulk: the estimate comes from the later ones.
  if [ "$ROUND" = 2 ] || { [ "$ROUND" -gt 2 ] && [ "$took" -gt "$longest" ]; }; then longest=$took; fi
done
log "done: $(wc -l < "$OUT") measurements in $OUT"

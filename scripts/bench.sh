#!/usr/bin/env bash
# `make bench`: every ferrovs benchmark in order, results in bench/results/
# (results.json, results.md, *.svg; raw inputs in bench/results/raw/).
#   1. build (release)          4. packet rate over memif vs the bounce reflector (root)
#   2. pktloop under callgrind  5. peers on the namespace lab: ferrovs, HAProxy, nginx (root)
#      (ipp: per packet; ipc:
#      per whole connection)
#   3. criterion micro-benches  6. host path: kernel twin throughput on the lab, memif
#                                  packet rate without / with an idle / with a busy twin (root)
#                               7. VRRP failover: takeover time over FO_ROUNDS SIGKILLs of the
#                                  master, v3 at 0.1 s, ferrovs and keepalived (root)
#                               8. results + plots
# Everything is bounded in time (whole run < 19 min on 2 cores). Parts that
# need what the machine lacks (root, valgrind, hugepages) are skipped with a
# message; the report then says "missing" for them.
# Knobs: BENCH_SKIP="ipp ipc micro pktrate peers hostpath failover" PKT_SECS PKT_ROUNDS IPP_N IPP_N0
#        IPC_N IPC_N0 (connections; N0 must cover 121 s of traffic at 10 ms per connection)
#        PEER_SECS PEER_ROUNDS PEER_BUDGET (bench/scripts/peers.sh; PEER_BUDGET stays under its 300 s)
#        HP_ROUNDS HP_MEMIF_ROUNDS HP_FILE_MB HP_SECS HP_RATE_PPS HP_BUDGET (bench/scripts/hostpath.sh)
#        FO_ROUNDS FO_BUDGET FO_KA_RESERVE (bench/scripts/failover.sh)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-bench}
CARGO=${CARGO:-cargo}
REL=$CARGO_TARGET_DIR/release
RES=$ROOT/bench/results
RAW=$RES/raw
SKIP=" ${BENCH_SKIP:-} "
START=$(date +%s)
step() { echo "==> [bench +$(( $(date +%s) - START ))s] $*"; }
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
is_root() { [ "$(id -u)" = 0 ]; }

mkdir -p "$RAW"
rm -f "$RAW"/*.json "$RAW"/*.jsonl "$RAW"/*.log "$RAW"/*.txt

# Tools the peers and callgrind steps need (Debian packages), installed when missing.
need=()
command -v valgrind >/dev/null || need+=(valgrind)
if ! skipped peers; then
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v nginx >/dev/null || need+=(nginx)
  [ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
  command -v wrk >/dev/null || need+=(wrk)
fi
if ! skipped peers || ! skipped hostpath; then
  command -v curl >/dev/null || need+=(curl)
fi
if ! skipped failover; then
  command -v keepalived >/dev/null || need+=(keepalived)
fi
if [ ${#need[@]} -gt 0 ] && is_root; then
  step "installing ${need[*]} (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "    apt-get failed; the steps that need ${need[*]} will be skipped"
fi

step "build: release binaries (ferrovs, pktloop, fvs-pktgen, plot) and the benches"
$CARGO build --release --bin ferrovs -p ferrovs -p ferrovs-bench --bins || { echo "build failed"; exit 1; }

cat > "$RAW/meta.json" <<JSON
{"date": "$(date -u +%FT%TZ)", "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo +dirty)",
 "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//;s/"//g') x $(nproc)", "kernel": "$(uname -r)"}
JSON

if ! skipped ipp; then
  if command -v valgrind >/dev/null; then
    step "pktloop under callgrind: instructions per packet per mode (N=${IPP_N:-200000}, N0=${IPP_N0:-20000})"
    timeout 300 "$REL/pktloop" ipp --n "${IPP_N:-200000}" --n0 "${IPP_N0:-20000}" --json "$RAW/ipp.json" \
      --keep /tmp/ferrovs-pktloop | sed 's/^/    /'
    callgrind_annotate --auto=no --inclusive=yes --threshold=99 /tmp/ferrovs-pktloop/callgrind.nat.n.out \
      > "$RAW/callgrind-nat-inclusive.txt" 2>/dev/null || true
  else
    step "pktloop: valgrind missing, skipped"
  fi
fi

if ! skipped ipc; then
  if command -v valgrind >/dev/null; then
    step "pktloop under callgrind: instructions per whole short connection per mode (N=${IPC_N:-30000}, N0=${IPC_N0:-15000})"
    timeout 300 "$REL/pktloop" ipc --n "${IPC_N:-30000}" --n0 "${IPC_N0:-15000}" --json "$RAW/ipc.json" \
      --keep /tmp/ferrovs-pktloop-conn | sed 's/^/    /'
    callgrind_annotate --auto=no --inclusive=yes --threshold=99 /tmp/ferrovs-pktloop-conn/callgrind.conn-nat.n.out \
      > "$RAW/callgrind-conn-nat-inclusive.txt" 2>/dev/null || true
  else
    step "pktloop ipc: valgrind missing, skipped"
  fi
fi

if ! skipped micro; then
  step "criterion: pipeline (established per mode, new connection per scheduler, whole connection per mode)"
  timeout 420 $CARGO bench -p ferrovs-bench --bench pipeline -- --noplot 2>/dev/null \
    | grep -E '^[a-z_]+/|time:' | grep -v '%' | sed 's/  */ /g;s/^/    /'
  step "criterion: connection sync per connection (encode on the master, install on a backup)"
  timeout 300 $CARGO bench -p ferrovs-bench --bench sync -- --noplot 2>/dev/null \
    | grep -E '^sync/|time:|thrpt:' | grep -v '%' | sed 's/  */ /g;s/^/    /'
  step "criterion: conntrack lookup at 1K / 1M / 10M connections (conntrack/benches/table.rs)"
  timeout 420 $CARGO bench -p conntrack --bench table -- --noplot lookup 2>&1 \
    | grep -E '^lookup/|time:|table of' | grep -v '%' | sed 's/  */ /g;s/^/    /'
fi

if ! skipped pktrate; then
  if is_root; then
    step "packet rate: fvs-pktgen vs bounce and vs ferrovs over memif"
    timeout 300 bash bench/scripts/pktrate.sh "$REL/ferrovs" "$REL/fvs-pktgen" "$RAW" 2>&1 | sed 's/^/    /'
  else
    step "packet rate: needs root (hugepages, memif), skipped"
  fi
fi

if ! skipped peers; then
  if is_root && command -v haproxy >/dev/null && command -v wrk >/dev/null && command -v nginx >/dev/null; then
    step "peers on the lab: ferrovs, HAProxy, nginx stream (same core, same servers, same wrk load; keep-alive in ${PEER_ROUNDS:-5} interleaved rounds)"
    timeout 300 bash bench/scripts/peers.sh "$REL/ferrovs" "$RAW/peers.jsonl" 2>&1 | sed 's/^/    /'
    bash tests/lab/lab.sh down >/dev/null 2>&1 || true
  else
    step "peers: needs root, haproxy, nginx (stream) and wrk, skipped"
  fi
fi

if ! skipped hostpath; then
  if is_root && command -v curl >/dev/null && command -v python3 >/dev/null; then
    step "host path: kernel twin throughput on the lab; memif rate without a twin, with it idle, with kernel traffic"
    timeout 180 bash bench/scripts/hostpath.sh "$REL/ferrovs" "$REL/fvs-pktgen" "$RAW" 2>&1 | sed 's/^/    /'
    bash tests/lab/lab.sh down >/dev/null 2>&1 || true
  else
    step "host path: needs root, curl and python3, skipped"
  fi
fi

if ! skipped failover; then
  if is_root && command -v python3 >/dev/null; then
    step "VRRP failover: ${FO_ROUNDS:-20} SIGKILLs of the master (v3, advert_int 0.1), ferrovs then keepalived"
    timeout 240 bash bench/scripts/failover.sh "$REL/ferrovs" "$RAW" 2>&1 | sed 's/^/    /'
    bash tests/lab/lab.sh down >/dev/null 2>&1 || true
  else
    step "VRRP failover: needs root and python3, skipped"
  fi
fi

step "results: $RES/results.{json,md} and SVG charts"
"$REL/plot" --raw "$RAW" --criterion "$CARGO_TARGET_DIR/criterion" --out "$RES" | sed 's/^/    /'
step "done in $(( $(date +%s) - START )) s"

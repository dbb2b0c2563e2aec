#!/usr/bin/env bash
# Packet rate over memif on this 2-core machine: fvs-pktgen (memif client,
# core 0) against, alternately,
#   bounce   fvs-pktgen bounce (memif server, core 1): the I/O ceiling
#   ferrovs  `ferrovs run` with bench/configs/memif.yaml (one worker, core 1)
# PKT_ROUNDS rounds of both (interleaved, so that a noisy neighbour hits both);
# the report keeps the best round of each.
# Usage: pktrate.sh FERROVS_BIN PKTGEN_BIN OUT_DIR   (root, hugepages)
set -euo pipefail
FERROVS=${1:?ferrovs binary}
PKTGEN=${2:?fvs-pktgen binary}
OUT=${3:?output dir}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${PKT_SECS:-3}
ROUNDS=${PKT_ROUNDS:-2}
FLOWS=${PKT_FLOWS:-4096}
DIR=/run/ferrovs-bench
SOCK=$DIR/memif.sock
MEMIF="socket=$SOCK,socket-abstract=no,id=0"
PIDS=()
log() { echo "[pktrate $(date +%T)] $*" >&2; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$SOCK"; }
trap cleanup EXIT

wait_sock() { for _ in $(seq 1 100); do [ -S "$SOCK" ] && return 0; sleep 0.1; done; log "no memif socket"; return 1; }
stop() { # pid: TERM, bounded wait, KILL
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}

mkdir -p "$DIR" "$OUT"
bash "$ROOT/tests/lab/lab.sh" hugepages
for r in $(seq 1 "$ROUNDS"); do
  rm -f "$SOCK"
  log "round $r: bounce (core 1) <- fvs-pktgen (core 0), ${SECS} s"
  taskset -c 1 "$PKTGEN" bounce --dev "net_memif0,role=server,$MEMIF" --core 1 --seconds $((SECS + 30)) \
    >"$OUT/bounce-$r.log" 2>&1 &
  PIDS=($!)
  wait_sock
  timeout $((SECS + 40)) taskset -c 0 "$PKTGEN" gen --dev "net_memif0,role=client,$MEMIF" --core 0 \
    --modes bounce --flows "$FLOWS" --seconds "$SECS" --json "$OUT/pktrate-bounce-$r.json" 2>"$OUT/gen-bounce-$r.log" | sed 's/^/  /' >&2
  stop "${PIDS[0]}"

  rm -f "$SOCK"
  log "round $r: ferrovs (worker on core 1) <- fvs-pktgen (core 0), modes nat fullnat dr tun, ${SECS} s each"
  "$FERROVS" run --config "$ROOT/bench/configs/memif.yaml" >"$OUT/ferrovs-$r.log" 2>&1 &
  PIDS=($!)
  wait_sock
  timeout $((4 * SECS + 80)) taskset -c 0 "$PKTGEN" gen --dev "net_memif0,role=client,$MEMIF" --core 0 \
    --modes nat,fullnat,dr,tun --flows "$FLOWS" --seconds "$SECS" --json "$OUT/pktrate-ferrovs-$r.json" \
    2>"$OUT/gen-ferrovs-$r.log" | sed 's/^/  /' >&2
  stop "${PIDS[0]}"
  grep -h 'worker totals' "$OUT/ferrovs-$r.log" | sed 's/^.*worker totals/  director: worker totals/' >&2 || true
done
PIDS=()

#!/usr/bin/env bash
# make demo: builds the lab, runs the director live on it and sends traffic
# from the client namespace, showing how it spreads over the real servers.
set -euo pipefail
BIN=${1:-target/release/ferrovs}
HERE=$(cd "$(dirname "$0")/.." && pwd)
LAB="$HERE/tests/lab/lab.sh"
LOG=/tmp/ferrovs-demo.log
[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces, DPDK)" >&2; exit 1; }
cleanup() {
  [ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  bash "$LAB" down
}
trap cleanup EXIT
bash "$LAB" up 3
echo "== starting ferrovs on the lab (configs/lab.yaml), log in $LOG"
ip netns exec fvs-lb "$BIN" run --config "$HERE/configs/lab.yaml" >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  out=$(ip netns exec fvs-c python3 "$HERE/tests/lab/http_client.py" --url http://10.99.0.100/ -n 1 --timeout 1 || true)
  grep -q '"ok": 1' <<<"$out" && break
  sleep 0.2
done
echo "== 300 HTTP requests from the client namespace to http://10.99.0.100/ (rr over 3 servers)"
ip netns exec fvs-c python3 "$HERE/tests/lab/http_client.py" --url http://10.99.0.100/ -n 300 --progress
FVSADM="$(dirname "$BIN")/fvsadm"
echo "== what an LVS operator sees: fvsadm -Ln --stats (same format as ipvsadm)"
"$FVSADM" -Ln --stats
echo "== fvsadm -Ln"
"$FVSADM" -Ln
echo "== the host path: the director's kernel shares the port through its twin fvs-host0"
ip netns exec fvs-lb ip -br addr show fvs-host0
echo -n "   kernel curl from the director to a real server: "
ip netns exec fvs-lb curl -s -m 5 http://10.99.1.12:8080/ || echo "(failed)"
ip netns exec fvs-lb curl -s -m 5 http://127.0.0.1:9180/metrics | grep -E '^ferrovs_port_host_frames_total' | sed 's/^/   /' || true
echo "== stopping ferrovs (SIGTERM)"
kill -TERM "$PID"; wait "$PID" && echo "ferrovs exited cleanly"; PID=
grep -E 'worker totals|stopped|mbufs_in_use' "$LOG" | sed 's/\x1b\[[0-9;]*m//g'

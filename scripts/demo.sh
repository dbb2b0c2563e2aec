#!/usr/bin/env bash
# make demo: builds the lab, runs the director live on it and sends traffic
# from the client namespace, showing how it spreads over the real servers.
set -euo pipefail
BIN=${1:-target/release/ferrovs}
HERE=$(cd "$(dirname "$0")/.." && pwd)
LAB="$HERE/tests/lab/lab.sh"
LOG=/tmp/ferrovs-demo.log
CFG=/tmp/ferrovs-demo.yaml
[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces, DPDK)" >&2; exit 1; }
cleanup() {
  [ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  bash "$LAB" down
  rm -f "$CFG"
}
trap cleanup EXIT
bash "$LAB" up 3
# The lab's config with keepalived-style health checks on the service.
sed 's|^    forward: nat$|    forward: nat\n    delay_loop: 1\n    checks: [{http_get: {urls: [{path: /, status_code: [200]}], connect_timeout: 1, retry: 1, delay_before_retry: 1}}]|' \
  "$HERE/configs/lab.yaml" > "$CFG"
grep -q http_get "$CFG" || { echo "demo config not built" >&2; exit 1; }
echo "== starting ferrovs on the lab (configs/lab.yaml + an HTTP_GET check, delay_loop 1), log in $LOG"
ip netns exec fvs-lb "$BIN" run --config "$CFG" >"$LOG" 2>&1 &
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
listed() { "$FVSADM" -Ln | grep -c "$1" || true; }
wait_listed() { # real want(0|1): bounded wait, prints the seconds it took
  local start=$(date +%s.%N)
  for _ in $(seq 1 100); do
    [ "$(listed "$1")" = "$2" ] && { awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s\n", b - a }'; return 0; }
    sleep 0.1
  done
  echo "not within 10 s"; return 1
}
echo "== a real server fails: stopping rs2's HTTP server"
kill "$(cat /tmp/ferrovs-lab/rs2-8080.pid)"
echo -n "   rs2 out of the service after "; wait_listed 10.99.1.12:8080 0
"$FVSADM" -L --health | sed 's/^/   /'
echo "== 30 requests while it is down (rs2 gets none)"
ip netns exec fvs-c python3 "$HERE/tests/lab/http_client.py" --url http://10.99.0.100/ -n 30
echo "== rs2 comes back"
ip netns exec fvs-rs2 python3 "$HERE/tests/lab/http_server.py" --port 8080 --dir /tmp/ferrovs-lab/www2 --lifetime 300 \
  >/dev/null 2>&1 &
echo $! > /tmp/ferrovs-lab/rs2-8080.pid
echo -n "   rs2 back in the service after "; wait_listed 10.99.1.12:8080 1
ip netns exec fvs-c python3 "$HERE/tests/lab/http_client.py" --url http://10.99.0.100/ -n 30
grep -E 'real server (down|up)' "$LOG" | sed 's/\x1b\[[0-9;]*m//g; s/^/   /'
echo "== stopping ferrovs (SIGTERM)"
kill -TERM "$PID"; wait "$PID" && echo "ferrovs exited cleanly"; PID=
grep -E 'worker totals|stopped|mbufs_in_use' "$LOG" | sed 's/\x1b\[[0-9;]*m//g'

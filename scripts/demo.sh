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
  for p in ${PID:-} ${PIDA:-} ${PIDB:-} ${CLIENT:-}; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  bash "$LAB" down
  rm -f "$CFG" /tmp/ferrovs-demo-A.yaml /tmp/ferrovs-demo-B.yaml /tmp/ferrovs-demo-requests.jsonl
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
wait_for() { # want command...: bounded wait (30 s) until the command prints want; prints the seconds it took
  local want=$1 start=$(date +%s.%N); shift
  for _ in $(seq 1 300); do
    [ "$("$@")" = "$want" ] && { awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s\n", b - a }'; return 0; }
    sleep 0.1
  done
  echo "not within 30 s"; return 1
}
wait_listed() { wait_for "$2" listed "$1"; } # real want(0|1)
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

echo
echo "== director failover: two ferrovs directors, one VRRP instance owning the VIP and the reals' gateway"
LAB_DIRECTORS=2 bash "$LAB" up 3 >/dev/null
# Director A (fvs-lb, priority 150) and B (fvs-lb2, priority 100): each its
# own MAC, addresses and control socket; the instance owns 10.99.0.100 and
# the NAT gateway 10.99.1.1, which only the master answers for.
director_cfg() { # side mac n priority
  sed -e "s/02:00:00:00:00:01/$2/" -e "s#addresses: \[10.99.0.1/24, 10.99.1.1/24\]#addresses: [10.99.0.$3/24, 10.99.1.$3/24]#" \
    -e "s#socket: .*#socket: /tmp/ferrovs-demo-$1.sock#" "$HERE/configs/lab.yaml" > "/tmp/ferrovs-demo-$1.yaml"
  cat >> "/tmp/ferrovs-demo-$1.yaml" <<YAML
conn_max: 100000
vrrp:
  - {name: VI_1, port: eth0, virtual_router_id: 51, priority: $4, advert_int: 1,
     virtual_ipaddress: [10.99.0.100, 10.99.1.1/24]}
YAML
}
director_cfg A 02:00:00:00:00:01 3 150
director_cfg B 02:00:00:00:00:02 4 100
state() { ip netns exec "$1" curl -s -m 1 http://127.0.0.1:9180/metrics | awk '/^ferrovs_vrrp_state/ {print $2}'; }
wait_state() { wait_for "$2" state "$1"; } # ns state(2 master, 1 backup)
ip netns exec fvs-lb "$BIN" run --config /tmp/ferrovs-demo-A.yaml >/tmp/ferrovs-demo-A.log 2>&1 &
PIDA=$!
ip netns exec fvs-lb2 "$BIN" run --config /tmp/ferrovs-demo-B.yaml >/tmp/ferrovs-demo-B.log 2>&1 &
PIDB=$!
echo -n "   A (priority 150) MASTER after "; wait_state fvs-lb 2
echo -n "   B (priority 100) BACKUP after "; wait_state fvs-lb2 1
echo "   fvsadm -L --vrrp on A and on B:"
"$FVSADM" --socket /tmp/ferrovs-demo-A.sock -L --vrrp | sed 's/^/   /'
"$FVSADM" --socket /tmp/ferrovs-demo-B.sock -L --vrrp | tail -n +2 | sed 's/^/   /'
echo "== 20 s of requests at 10/s through the VIP; A is killed (SIGKILL) 4 s in"
ip netns exec fvs-c python3 "$HERE/tests/lab/http_client.py" --url http://10.99.0.100/ -n 200 --rate 10 \
  --timeout 1 --log /tmp/ferrovs-demo-requests.jsonl > /tmp/ferrovs-demo-stream.json &
CLIENT=$!
sleep 4
kill -KILL "$PIDA"; wait "$PIDA" 2>/dev/null || true; PIDA=
echo -n "   B MASTER after "; wait_state fvs-lb2 2
wait "$CLIENT" || true; CLIENT=
python3 - /tmp/ferrovs-demo-stream.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"   requests: {r['ok']} ok, {r['failed']} failed (only while no director held the VIP), by server {r['by_server']}")
PY
echo "== A restarts and, with the higher priority, takes the VIP back"
ip netns exec fvs-lb "$BIN" run --config /tmp/ferrovs-demo-A.yaml >>/tmp/ferrovs-demo-A.log 2>&1 &
PIDA=$!
echo -n "   A MASTER again after "; wait_state fvs-lb 2
echo -n "   B BACKUP again after "; wait_state fvs-lb2 1
ip netns exec fvs-c python3 "$HERE/tests/lab/http_client.py" --url http://10.99.0.100/ -n 30
grep -hE 'VRRP transition' /tmp/ferrovs-demo-A.log /tmp/ferrovs-demo-B.log | sed 's/\x1b\[[0-9;]*m//g; s/^/   /'
for p in $PIDA $PIDB; do kill -TERM "$p"; wait "$p" || true; done; PIDA= PIDB=
echo "== both directors stopped"

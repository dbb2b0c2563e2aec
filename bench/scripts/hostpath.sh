#!/usr/bin/env bash
# Host path (ports[].host_iface): what the kernel twin carries, and what having
# one costs the dataplane. Two parts, root, every step bounded in time:
#
#   throughput  The namespace lab (tests/lab/lab.sh, LAB_MODE=nat, one real
#               server); ferrovs in fvs-lb with a twin fvs-host0 on its port
#               (host_rate_pps $HP_RATE_PPS, host-path thread on core 0, worker
#               on core 1). From the kernel of fvs-lb: curl downloads an
#               HP_FILE_MB MiB file from the real server (real -> twin), and
#               hostpath.py sends as many bytes to a sink on the real server
#               (twin -> real). Mbit/s from the transfer, frames/s both ways from
#               /metrics' host-path counters read before and after.
#   memif       As bench/scripts/pktrate.sh: fvs-pktgen (memif client, core 0),
#               NAT mode, against `ferrovs run` (one worker, core 1) with a copy
#               of bench/configs/memif.yaml, in a private namespace fvs-bench
#               (the memif socket is a path, so fvs-pktgen in the root namespace
#               reaches it). Per round, interleaved:
#                 baseline  no host_iface
#                 idle      twin fvs-bh0, host-path thread on core 0, no kernel traffic
#                 busy      same, while a kernel UDP flood (1000-byte datagrams,
#                           hostpath.py udp) leaves through the twin to 10.0.0.254:9
#               On 2 cores the flood, the host-path thread and fvs-pktgen share
#               core 0: `busy` includes that contention, not only the director's
#               cost of sending the kernel's frames (the report says so).
# Throughput: HP_ROUNDS rounds, median. memif: HP_MEMIF_ROUNDS rounds of each
# kind, the best round of each (other load only ever lowers a rate) and the medians.
# Results: OUT_DIR/hostpath.json (summary and every round); logs and fvs-pktgen
# JSON as OUT_DIR/hostpath-*.
# Usage: hostpath.sh FERROVS_BIN PKTGEN_BIN OUT_DIR   (root, hugepages)
# Knobs: HP_ROUNDS (3) HP_MEMIF_ROUNDS (5) HP_FILE_MB (64) HP_SECS (3) HP_FLOWS (4096)
#        HP_RATE_PPS (1000000) HP_PARTS ("throughput memif") HP_BUDGET (150 s)
set -euo pipefail
FERROVS=${1:?ferrovs binary}
PKTGEN=${2:?fvs-pktgen binary}
OUT=${3:?output dir}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=$ROOT/tests/lab/lab.sh
HELPER=$ROOT/bench/scripts/hostpath.py
ROUNDS=${HP_ROUNDS:-3}
MROUNDS=${HP_MEMIF_ROUNDS:-5}
MB=${HP_FILE_MB:-64}
SECS=${HP_SECS:-3}
FLOWS=${HP_FLOWS:-4096}
RATE=${HP_RATE_PPS:-1000000}
PARTS=" ${HP_PARTS:-throughput memif} "
BUDGET=${HP_BUDGET:-150}      # seconds; no memif round starts past BUDGET - 40
WORK=/run/ferrovs-hostpath    # private configs, control sockets, the memif socket
NS=fvs-bench                  # the memif part's namespace (lab.sh down also removes fvs-*)
SOCK=$WORK/memif.sock
MEMIF="socket=$SOCK,socket-abstract=no,id=0"
LABRUN=/tmp/ferrovs-lab       # lab.sh's run dir: the real servers serve www1/ from here
BLOB=hostpath-blob.bin
SINK_PORT=9000
LAB_METRICS=9180
MEMIF_METRICS=9181
RUNS=$OUT/hostpath-runs.jsonl
PIDS=()
LAB_UP=0
NS_UP=0

log() { echo "[hostpath $(date +%T)] $*" >&2; }

# Signals only what this script started (PIDS), then removes what it made.
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  PIDS=()
  if [ "$LAB_UP" = 1 ]; then bash "$LAB" down >/dev/null 2>&1 || true; fi
  if [ "$NS_UP" = 1 ]; then ip netns del "$NS" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

forget() { # pid: no longer ours to signal (it has been waited for)
  local q keep=()
  for q in "${PIDS[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done
  PIDS=("${keep[@]}")
}

# pid: TERM, bounded wait, KILL; forgotten afterwards. STOP_RC: its exit
# status (0 clean, 139 segfault, 137 killed here after 10 s).
STOP_RC=0
stop() {
  local p=$1
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  STOP_RC=0
  wait "$p" 2>/dev/null || STOP_RC=$?
  forget "$p"
}

now() { date +%s.%N; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Host-path counters of port eth0 from a director's /metrics in namespace $1,
# port $2: "to_kernel_frames from_kernel_frames to_kernel_bytes
# from_kernel_bytes rate_limited ring_full tx_refused" (0 when absent).
host_snap() {
  local m
  m=$(ip netns exec "$1" curl -s -m 2 "http://127.0.0.1:$2/metrics" || true)
  awk '
    function v(s) { return (s in val) ? val[s] : 0 }
    { val[$1] = $2 }
    END {
      printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f\n",
        v("ferrovs_port_host_frames_total{direction=\"to_kernel\",port=\"eth0\"}"),
        v("ferrovs_port_host_frames_total{direction=\"from_kernel\",port=\"eth0\"}"),
        v("ferrovs_port_host_bytes_total{direction=\"to_kernel\",port=\"eth0\"}"),
        v("ferrovs_port_host_bytes_total{direction=\"from_kernel\",port=\"eth0\"}"),
        v("ferrovs_port_host_drops_total{port=\"eth0\",reason=\"rate_limited\"}"),
        v("ferrovs_port_host_drops_total{port=\"eth0\",reason=\"ring_full\"}"),
        v("ferrovs_port_host_drops_total{port=\"eth0\",reason=\"tx_refused\"}")
    }' <<<"$m"
}

# Two host_snap lines -> the JSON members of their difference.
host_delta() {
  local b a
  read -r -a b <<<"$1"
  read -r -a a <<<"$2"
  printf '"to_kernel_frames":%d,"from_kernel_frames":%d,"to_kernel_bytes":%d,"from_kernel_bytes":%d,"drops":{"rate_limited":%d,"ring_full":%d,"tx_refused":%d}' \
    $((a[0] - b[0])) $((a[1] - b[1])) $((a[2] - b[2])) $((a[3] - b[3])) \
    $((a[4] - b[4])) $((a[5] - b[5])) $((a[6] - b[6]))
}

# Waits (bounded) until `ip -o addr show dev IFACE` in namespace NS shows ADDR.
wait_twin() { # ns iface addr
  for _ in $(seq 1 100); do
    ip netns exec "$1" ip -o addr show dev "$2" 2>/dev/null | grep -q " $3/" && return 0
    sleep 0.1
  done
  log "twin $2 with $3 did not appear in $1"
  return 1
}

gone() { # ns iface: the twin left with its process (bounded wait)
  for _ in $(seq 1 50); do
    ip netns exec "$1" ip link show "$2" >/dev/null 2>&1 || return 0
    sleep 0.1
  done
  log "twin $2 still present in $1 after its ferrovs stopped"
  return 1
}

# ---- part 1: throughput through the twin on the lab ----------------------------
throughput() {
  local cfg=$WORK/lab-hostpath.yaml fpid spid r o b a code size secs
  log "throughput: lab up (nat, 1 real server)"
  LAB_UP=1
  LAB_MODE=nat bash "$LAB" up 1 2>&1 | sed 's/^/  /' >&2
  # configs/lab.yaml with a twin on the port (whatever host-path settings it
  # has are replaced), the host-path thread on core 0, the lab's one real
  # server only, and a control socket of its own.
  sed -e '/^    host_\(iface\|rate_pps\|driver\):/d' -e '/^  host_core:/d' \
    -e "s|^    mtu: 1500\$|    mtu: 1500\n    host_iface: fvs-host0\n    host_rate_pps: $RATE|" \
    -e 's|^  in_memory: true$|  in_memory: true\n  host_core: 0|' \
    -e '/address: 10\.99\.1\.1[23], port: 8080/d' \
    -e "s|socket: /run/ferrovs/ferrovs.sock|socket: $WORK/lab.sock|" \
    "$ROOT/configs/lab.yaml" >"$cfg"
  if [ "$(grep -c 'host_iface: fvs-host0' "$cfg")" != 1 ] || ! grep -q 'host_core: 0' "$cfg" \
    || ! grep -q "socket: $WORK/lab.sock" "$cfg" || ! grep -q "listen: \"127.0.0.1:$LAB_METRICS\"" "$cfg"; then
    log "configs/lab.yaml changed shape; cannot derive the host-path config"
    return 1
  fi
  ip netns exec fvs-lb "$FERROVS" run --config "$cfg" >"$OUT/hostpath-lab-ferrovs.log" 2>&1 &
  fpid=$!
  PIDS+=("$fpid")
  local up=0
  for _ in $(seq 1 150); do
    if [ "$(ip netns exec fvs-c curl -s -m 1 http://10.99.0.100/ 2>/dev/null)" = rs1 ]; then up=1; break; fi
    kill -0 "$fpid" 2>/dev/null || break
    sleep 0.2
  done
  if [ "$up" != 1 ]; then
    log "the VIP did not answer; ferrovs log:"; tail -5 "$OUT/hostpath-lab-ferrovs.log" >&2
    return 1
  fi
  wait_twin fvs-lb fvs-host0 10.99.1.1 || return 1
  log "throughput: VIP answers, twin fvs-host0 up; ${MB} MiB each way, $ROUNDS rounds"
  truncate -s $((MB << 20)) "$LABRUN/www1/$BLOB"
  ip netns exec fvs-rs1 timeout 170 python3 "$HELPER" sink --port "$SINK_PORT" --lifetime 160 \
    >"$OUT/hostpath-sink.log" 2>&1 &
  spid=$!
  PIDS+=("$spid")
  for _ in $(seq 1 50); do
    ip netns exec fvs-rs1 ss -ltnH "sport = :$SINK_PORT" 2>/dev/null | grep -q . && break
    sleep 0.1
  done

  for r in $(seq 1 "$ROUNDS"); do
    # real server -> twin: kernel curl in the director namespace.
    b=$(host_snap fvs-lb "$LAB_METRICS")
    o=$(ip netns exec fvs-lb curl -s -m 60 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
      "http://10.99.1.11:8080/$BLOB" 2>/dev/null) || true
    a=$(host_snap fvs-lb "$LAB_METRICS")
    read -r code size secs <<<"${o:-000 0 0}"
    echo "{\"part\":\"throughput\",\"dir\":\"download\",\"round\":$r,\"ok\":$([ "$code" = 200 ] && [ "$size" = $((MB << 20)) ] && echo true || echo false),\"http_code\":\"$code\",\"bytes\":$size,\"seconds\":$secs,$(host_delta "$b" "$a")}" >>"$RUNS"
    log "  round $r download: http $code, $size bytes in $secs s"

    # twin -> real server: a kernel TCP sender to the sink on the real server.
    b=$(host_snap fvs-lb "$LAB_METRICS")
    o=$(ip netns exec fvs-lb timeout 70 python3 "$HELPER" send --host 10.99.1.11 --port "$SINK_PORT" \
      --bytes $((MB << 20)) 2>/dev/null) || true
    a=$(host_snap fvs-lb "$LAB_METRICS")
    if [ -n "$o" ]; then
      echo "{\"part\":\"throughput\",\"dir\":\"upload\",\"round\":$r,\"ok\":$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print("true" if j["received"]==j["bytes"] else "false")' "$o"),\"sender\":$o,$(host_delta "$b" "$a")}" >>"$RUNS"
    else
      echo "{\"part\":\"throughput\",\"dir\":\"upload\",\"round\":$r,\"ok\":false,$(host_delta "$b" "$a")}" >>"$RUNS"
    fi
    log "  round $r upload: ${o:-failed}"
  done

  stop "$spid"
  stop "$fpid"
  echo "{\"part\":\"lab_exit\",\"status\":$STOP_RC}" >>"$RUNS"
  [ "$STOP_RC" = 0 ] || log "ferrovs on the lab did not stop cleanly: exit status $STOP_RC"
  gone fvs-lb fvs-host0 || true
  grep -h 'worker totals' "$OUT/hostpath-lab-ferrovs.log" | sed 's/^.*worker totals/  director: worker totals/' >&2 || true
  bash "$LAB" down >/dev/null 2>&1 || true
  LAB_UP=0
}

# ---- part 2: memif packet rate without a twin, with an idle one, with a busy one ----
memif_one() { # config kind round
  local cfg=$1 kind=$2 r=$3 fpid gpid upid="" b="" a="" t0 t1 g0 g1 flog gout glog gen_rc=0
  flog=$OUT/hostpath-ferrovs-$kind-$r.log
  gout=$OUT/hostpath-gen-$kind-$r.out
  glog=$OUT/hostpath-gen-$kind-$r.log
  rm -f "$SOCK"
  ip netns exec "$NS" "$FERROVS" run --config "$cfg" >"$flog" 2>&1 &
  fpid=$!
  PIDS+=("$fpid")
  for _ in $(seq 1 150); do [ -S "$SOCK" ] && break; sleep 0.1; done
  if [ ! -S "$SOCK" ]; then
    log "no memif socket from ferrovs ($kind):"; tail -5 "$flog" >&2
    stop "$fpid"
    return 1
  fi
  if [ "$kind" != baseline ]; then
    wait_twin "$NS" fvs-bh0 10.0.0.1 || { stop "$fpid"; return 1; }
    # The gateway is static in the director; the kernel gets it too, so it needs no ARP.
    ip netns exec "$NS" ip neigh replace 10.0.0.254 lladdr 02:00:00:00:00:fe dev fvs-bh0
  fi
  g0=$(now)
  timeout -k 5 $((SECS + 20)) taskset -c 0 "$PKTGEN" gen --dev "net_memif0,role=client,$MEMIF" --core 0 \
    --modes nat --flows "$FLOWS" --seconds "$SECS" --json "$OUT/hostpath-memif-$kind-$r.json" \
    >"$gout" 2>"$glog" &
  gpid=$!
  PIDS+=("$gpid")
  if [ "$kind" != baseline ]; then
    # From the generator's flows being open (its 1 s warm-up follows) to its
    # result line (printed when the measurement ends, before it disconnects).
    while kill -0 "$gpid" 2>/dev/null && ! grep -qs 'flows opened' "$glog"; do sleep 0.05; done
    b=$(host_snap "$NS" "$MEMIF_METRICS")
    t0=$(now)
    if [ "$kind" = busy ]; then
      ip netns exec "$NS" timeout $((SECS + 30)) taskset -c 0 python3 "$HELPER" udp --dst 10.0.0.254 --port 9 \
        --size 1000 --seconds $((SECS + 25)) >"$OUT/hostpath-udp-$r.json" 2>&1 &
      upid=$!
      PIDS+=("$upid")
    fi
    while kill -0 "$gpid" 2>/dev/null && [ ! -s "$gout" ]; do sleep 0.05; done
    # The kernel stops sending before the generator disconnects.
    if [ -n "$upid" ]; then stop "$upid"; fi
    t1=$(now)
    a=$(host_snap "$NS" "$MEMIF_METRICS")
  fi
  wait "$gpid" || gen_rc=$?
  g1=$(now)
  forget "$gpid"
  sed "s/^/  $kind $r: /" "$gout" >&2
  [ "$gen_rc" = 0 ] || log "fvs-pktgen ($kind, round $r): exit status $gen_rc"
  stop "$fpid"
  local exit_rc=$STOP_RC
  [ "$exit_rc" = 0 ] || log "ferrovs ($kind, round $r) did not stop cleanly: exit status $exit_rc"
  if [ "$kind" != baseline ]; then gone "$NS" fvs-bh0 || true; fi
  local host='"host":null' udp='"udp":null' refused
  # Frames the port's TX queue refused (forwarded or the kernel's), from the
  # worker's totals; null when the process left without them.
  refused=$(grep -ho 'worker totals.*' "$flog" | grep -o 'tx_refused=[0-9]*' | awk -F= '{ s += $2 } END { print s + 0 }')
  grep -q 'worker totals' "$flog" || refused=null
  [ -n "$b" ] && host="\"host\":{$(host_delta "$b" "$a"),\"seconds\":$(secs_between "$t0" "$t1")}"
  [ -n "$upid" ] && [ -s "$OUT/hostpath-udp-$r.json" ] && udp="\"udp_file\":\"hostpath-udp-$r.json\""
  echo "{\"part\":\"memif\",\"kind\":\"$kind\",\"round\":$r,\"gen_file\":\"hostpath-memif-$kind-$r.json\",\"gen_exit\":$gen_rc,\"gen_wall_seconds\":$(secs_between "$g0" "$g1"),\"worker_tx_refused\":$refused,\"ferrovs_exit\":$exit_rc,$host,$udp}" >>"$RUNS"
}

memif() {
  local base=$WORK/memif-base.yaml twin=$WORK/memif-twin.yaml r
  bash "$LAB" hugepages
  ip netns del "$NS" 2>/dev/null || true # left by an interrupted run
  ip netns add "$NS"
  NS_UP=1
  ip netns exec "$NS" ip link set lo up
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  # bench/configs/memif.yaml with sockets of its own and /metrics; the twin
  # variant adds host_iface and the host-path thread's core.
  sed -e "s|/run/ferrovs-bench/memif.sock|$SOCK|" -e "s|/run/ferrovs-bench/ferrovs.sock|$WORK/memif-ctl.sock|" \
    "$ROOT/bench/configs/memif.yaml" >"$base"
  printf '\nmetrics:\n  listen: "127.0.0.1:%s"\n' "$MEMIF_METRICS" >>"$base"
  sed -e '/^    host_\(iface\|rate_pps\|driver\):/d' -e '/^  host_core:/d' "$base" >"$base.tmp"
  mv "$base.tmp" "$base"
  sed -e 's|^    mtu: 1500$|    mtu: 1500\n    host_iface: fvs-bh0|' -e 's|^  burst: 32$|  burst: 32\n  host_core: 0|' \
    "$base" >"$twin"
  if ! grep -q "$SOCK" "$base" || ! grep -q 'host_iface: fvs-bh0' "$twin" || ! grep -q 'host_core: 0' "$twin"; then
    log "bench/configs/memif.yaml changed shape; cannot derive the host-path configs"
    return 1
  fi
  log "memif: NAT, ${SECS} s per round, $MROUNDS rounds of baseline / twin idle / twin busy"
  for r in $(seq 1 "$MROUNDS"); do
    # A round takes about 20 s; one whose processes are slow to start or to
    # exit up to 3 x 35 s. Past the budget the remaining rounds are skipped
    # (the summary says how many ran), so the step ends in time.
    if [ $(( $(date +%s) - START )) -gt $((BUDGET - 40)) ]; then
      log "time budget (${BUDGET} s) nearly spent: rounds $r..$MROUNDS skipped"
      break
    fi
    memif_one "$base" baseline "$r" || true
    memif_one "$twin" idle "$r" || true
    memif_one "$twin" busy "$r" || true
  done
  ip netns del "$NS" 2>/dev/null || true
  NS_UP=0
}

mkdir -p "$OUT" "$WORK"
rm -f "$RUNS" "$OUT"/hostpath-*.json "$OUT"/hostpath-*.log "$OUT/hostpath.json"
START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine's other load, reported beside the figures
if [[ "$PARTS" == *" throughput "* ]]; then throughput || log "throughput part failed"; fi
if [[ "$PARTS" == *" memif "* ]]; then memif || log "memif part failed"; fi
touch "$RUNS"

# ---- summary: OUT/hostpath.json ----------------------------------------------
python3 - "$OUT" "$RUNS" "$MB" "$ROUNDS" "$SECS" "$FLOWS" "$RATE" "$(( $(date +%s) - START ))" "$LOAD0" "$MROUNDS" \
  "$(date -u +%FT%TZ)" "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo +dirty)" <<'PY'
import json, os, statistics, sys

out, runs_path, mb, rounds, secs, flows, rate, took, load0, mrounds, date, commit = sys.argv[1:]
runs = [json.loads(l) for l in open(runs_path) if l.strip()]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError, TypeError):
        return None


throughput = {}
for d in ("download", "upload"):
    rs = [r for r in runs if r["part"] == "throughput" and r["dir"] == d]
    for r in rs:
        if d == "upload" and "sender" in r:
            r["bytes"] = r["sender"]["received"]
            r["seconds"] = r["sender"]["seconds"]
        s = r.get("seconds") or 0
        if r["ok"] and s > 0:
            r["mbit_per_s"] = r["bytes"] * 8 / s / 1e6
            r["to_kernel_fps"] = r["to_kernel_frames"] / s
            r["from_kernel_fps"] = r["from_kernel_frames"] / s
    ok = [r for r in rs if r["ok"] and "mbit_per_s" in r]
    throughput[d] = {
        "path": "real server -> twin (kernel curl)" if d == "download" else "twin -> real server (kernel TCP sender)",
        "ok_rounds": len(ok),
        "rounds": len(rs),
        "median_mbit_per_s": med([r["mbit_per_s"] for r in ok]),
        "median_to_kernel_fps": med([r["to_kernel_fps"] for r in ok]),
        "median_from_kernel_fps": med([r["from_kernel_fps"] for r in ok]),
        "drops": {k: sum(r["drops"][k] for r in rs) for k in ("rate_limited", "ring_full", "tx_refused")},
        "runs": rs,
    }

memif = {}
for kind in ("baseline", "idle", "busy"):
    rs = [r for r in runs if r["part"] == "memif" and r["kind"] == kind]
    for r in rs:
        g = load(r["gen_file"])
        res = (g or {}).get("results") or [None]
        r["gen"] = res[0]
        if r.get("host") and r["host"]["seconds"] > 0:
            r["from_kernel_fps"] = r["host"]["from_kernel_frames"] / r["host"]["seconds"]
            r["ring_full_per_s"] = r["host"]["drops"]["ring_full"] / r["host"]["seconds"]
        if r.get("udp_file"):
            r["udp"] = load(r["udp_file"])
    ok = [r for r in rs if r["gen"]]
    memif[kind] = {
        "rounds": len(rs),
        "ok_rounds": len(ok),
        "best_rx_mpps": max([r["gen"]["rx_mpps"] for r in ok], default=None),
        "median_rx_mpps": med([r["gen"]["rx_mpps"] for r in ok]),
        "median_tx_mpps": med([r["gen"]["tx_mpps"] for r in ok]),
        "median_rx_per_tx": med([r["gen"]["rx_mpps"] / r["gen"]["tx_mpps"] for r in ok if r["gen"]["tx_mpps"]]),
        "median_rx_other_pps": med([r["gen"].get("rx_other_packets", 0) / r["gen"]["seconds"] for r in ok]),
        "median_from_kernel_fps": med([r.get("from_kernel_fps") for r in ok]),
        "median_sender_datagrams_per_s": med([(r.get("udp") or {}).get("datagrams_per_s") for r in ok]),
        "median_ring_full_per_s": med([r.get("ring_full_per_s") for r in ok]),
        "median_worker_tx_refused": med([r["worker_tx_refused"] for r in ok if r.get("worker_tx_refused") is not None]),
        "max_gen_wall_seconds": max([r["gen_wall_seconds"] for r in rs], default=None),
        "unclean_exits": [{"round": r["round"], "status": r.get("ferrovs_exit")} for r in rs if r.get("ferrovs_exit")],
        "runs": rs,
    }
m = lambda k: memif[k]["best_rx_mpps"]
mm = lambda k: memif[k]["median_rx_mpps"]
summary = {
    "command": "bench/scripts/hostpath.sh",
    "date": date,
    "commit": commit,
    "seconds_taken": int(took),
    "loadavg": {"start": load0, "end": " ".join(open("/proc/loadavg").read().split()[:3])},
    "cores": "2 cores: ferrovs worker on core 1; host-path thread (workers.host_core), fvs-pktgen, "
             "the kernel's TCP/UDP and the lab's servers on core 0",
    "throughput": {
        "file_bytes": int(mb) << 20,
        "host_rate_pps": int(rate),
        "ferrovs_exit": next((r["status"] for r in runs if r["part"] == "lab_exit"), None),
        "rounds": int(rounds),
        **throughput,
    },
    "memif": {
        "mode": "nat",
        "seconds": int(secs),
        "flows": int(flows),
        "rounds": int(mrounds),
        "udp_datagram_bytes": 1000,
        "note": "busy: a kernel UDP flood out of the twin, pinned to core 0 with fvs-pktgen and the host-path thread",
        **memif,
        # Other load on the machine only ever lowers a round's rate: the best
        # round of each is the figure (as in the packet-rate bench), the
        # medians are kept beside it.
        "ratios": {
            "idle/baseline": ratio(m("idle"), m("baseline")),
            "busy/baseline": ratio(m("busy"), m("baseline")),
            "busy/idle": ratio(m("busy"), m("idle")),
        },
        "ratios_of_medians": {
            "idle/baseline": ratio(mm("idle"), mm("baseline")),
            "busy/baseline": ratio(mm("busy"), mm("baseline")),
            "busy/idle": ratio(mm("busy"), mm("idle")),
        },
    },
}
with open(os.path.join(out, "hostpath.json"), "w") as f:
    json.dump(summary, f, indent=2)


def f(x, fmt):
    return "-" if x is None else format(x, fmt)


for d in ("download", "upload"):
    t = throughput[d]
    print(f"  {d:8s} {f(t['median_mbit_per_s'], '.0f')} Mbit/s, to_kernel {f(t['median_to_kernel_fps'], '.0f')} frames/s, "
          f"from_kernel {f(t['median_from_kernel_fps'], '.0f')} frames/s ({t['ok_rounds']}/{t['rounds']} rounds ok), drops {t['drops']}")
for k in ("baseline", "idle", "busy"):
    t = memif[k]
    print(f"  memif {k:8s} rx best {f(t['best_rx_mpps'], '.2f')} median {f(t['median_rx_mpps'], '.2f')} Mpps "
          f"(tx median {f(t['median_tx_mpps'], '.2f')}), "
          f"from_kernel {f(t['median_from_kernel_fps'], '.0f')} frames/s, at the generator {f(t['median_rx_other_pps'], '.0f')} /s "
          f"({t['ok_rounds']}/{t['rounds']} rounds ok)")
print("  ratios (best) " + ", ".join(f"{k} {f(v, '.3f')}" for k, v in summary["memif"]["ratios"].items()))
print("  ratios (medians) " + ", ".join(f"{k} {f(v, '.3f')}" for k, v in summary["memif"]["ratios_of_medians"].items()))
PY
log "done in $(( $(date +%s) - START )) s"

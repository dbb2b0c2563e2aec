#!/usr/bin/env bash
# VRRP takeover time: a master killed FO_ROUNDS times (SIGKILL), how long until
# the backup's first advert is on the wire. VRRP version 3, advert_int 0.1 s,
# master priority 150, backup 100, preemption on; ferrovs (two directors,
# release binary) and, as the baseline in the same run, keepalived (two
# instances, the lab fixture's flags). Root.
#
# On the namespace lab (tests/lab/lab.sh up 1 with LAB_DIRECTORS=2 and
# LAB_KEEPALIVED=2: fvs-lb / fvs-lb2 for the directors, fvs-ka1 / fvs-ka2 for
# keepalived, everything on bridge br0 in fvs-br). bench/scripts/failover.py
# runs the rounds, one system after the other (they share the VRID and the
# addresses): per round, wait until A is MASTER and B BACKUP, SIGKILL A,
# timestamp the kill and B's first advert on br0 (tests/lab/vrrp_sniff.py)
# with the same clock (CLOCK_MONOTONIC), restart A and wait until it
# preempts. Two figures per round:
#   kill -> B's first advert          what a crash costs
#   A's last advert -> B's first      the protocol's part: at least
#                                     Master_Down_Interval = 3 x 0.1 + (256 - 100) x 0.1 / 256 = 0.361 s
# Bound on both: 3 x advert_int + skew + 0.5 s = 0.861 s (the lab tests'); a
# round over it (or without a takeover) is counted.
# Results: OUT_DIR/failover.json (summary and every round); the processes'
# logs as OUT_DIR/failover-*.log.
# Usage: failover.sh FERROVS_BIN OUT_DIR   (root)
# Knobs: FO_ROUNDS (20) FO_BUDGET (190 s for the rounds of both systems)
#        FO_KA_RESERVE (50 s of it kept for keepalived) FO_SYSTEMS ("ferrovs keepalived")
set -euo pipefail
FERROVS=${1:?ferrovs binary}
OUT=${2:?output dir}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=$ROOT/tests/lab/lab.sh
DRIVER=$ROOT/bench/scripts/failover.py
ROUNDS=${FO_ROUNDS:-20}
BUDGET=${FO_BUDGET:-190}
RESERVE=${FO_KA_RESERVE:-50}
SYSTEMS=${FO_SYSTEMS:-ferrovs keepalived}
WORK=/run/ferrovs-failover   # configs, control sockets, keepalived's pid files and FIFOs, the capture
LAB_UP=0
DPID=""

log() { echo "[failover $(date +%T)] $*" >&2; }

# Signals only what this script started (the driver, which stops its own
# processes by PID), then removes the lab (which ends whatever is left in it).
cleanup() {
  if [ -n "$DPID" ]; then
    kill -TERM "$DPID" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DPID" 2>/dev/null || true
    DPID=""
  fi
  if [ "$LAB_UP" = 1 ]; then bash "$LAB" down >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [[ " $SYSTEMS " == *" keepalived "* ]] && ! command -v keepalived >/dev/null; then
  log "keepalived missing: the baseline is skipped"
  SYSTEMS=${SYSTEMS//keepalived/}
fi
KA_VERSION=$(keepalived --version 2>&1 | head -1 || true)

mkdir -p "$OUT"
rm -rf "$WORK"
mkdir -p "$WORK"
rm -f "$OUT"/failover*.json "$OUT"/failover-*.log
START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

log "lab up: 2 director namespaces, 2 keepalived namespaces, 1 real server"
LAB_UP=1
LAB_DIRECTORS=2 LAB_KEEPALIVED=2 LAB_GW=10.99.1.1 LAB_MODE=nat bash "$LAB" up 1 2>&1 | sed 's/^/  /' >&2

# In the background so that a signal to this script is handled at once.
rc=0
python3 "$DRIVER" --ferrovs "$FERROVS" --work "$WORK" --out "$OUT" --rounds "$ROUNDS" \
  --budget "$BUDGET" --ka-reserve "$RESERVE" --systems "$SYSTEMS" &
DPID=$!
wait "$DPID" || rc=$?
DPID=""
[ "$rc" = 0 ] || log "the driver reported a problem (exit status $rc); the summary says which"
bash "$LAB" down >/dev/null 2>&1 || true
LAB_UP=0

# ---- summary: OUT/failover.json ----------------------------------------------
python3 - "$OUT" "$ROUNDS" "$(( $(date +%s) - START ))" "$LOAD0" "$KA_VERSION" "$(date -u +%FT%TZ)" \
  "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo +dirty)" \
  "$FERROVS" <<'PY'
import json, os, statistics, sys

out, rounds, took, load0, ka_version, date, commit, ferrovs = sys.argv[1:]
try:
    raw = json.load(open(os.path.join(out, "failover-rounds.json")))
except (OSError, ValueError):
    raw = {"error": "the driver wrote no rounds", "systems": {}}

ADVERT_INT, VERSION, PRIO_B = 0.1, 3, 100
skew = (256 - PRIO_B) * ADVERT_INT / 256
mdi = 3 * ADVERT_INT + skew
bound = mdi + 0.5


def stats(xs, failed):
    xs = sorted(x for x in xs if x is not None)
    return {
        "n": len(xs),
        "min": xs[0] if xs else None,
        "median": statistics.median(xs) if xs else None,
        "max": xs[-1] if xs else None,
        "over_bound": sum(1 for x in xs if x > bound) + failed,
    }


systems = {}
for name, s in raw.get("systems", {}).items():
    rs = s.get("rounds", [])
    ok = [r for r in rs if r.get("ok")]
    failed = len(rs) - len(ok)
    systems[name] = {
        "rounds_run": len(rs),
        "rounds_ok": len(ok),
        "error": s.get("error"),
        "exit": s.get("exit"),
        "kill_to_first_advert": stats([r.get("kill_to_first_advert") for r in ok], failed),
        "last_advert_to_first_advert": stats([r.get("last_advert_to_first_advert") for r in ok], failed),
        # B's timer started at A's last advert: below Master_Down_Interval is too early.
        "early": sum(1 for r in ok if (r.get("last_advert_to_first_advert") or mdi) < mdi - 0.005),
        "a_adverts_after_kill": sum(r.get("a_adverts_after_kill", 0) for r in ok),
        "a_advert_gap_median": statistics.median([r["a_gap_median_before"] for r in rs if r.get("a_gap_median_before")] or [0]) or None,
        "restart_to_first_a_advert": stats([r.get("restart_to_first_a_advert") for r in rs], 0),
        "rounds": rs,
    }
    del systems[name]["restart_to_first_a_advert"]["over_bound"]


def ratio(key):
    try:
        return systems["ferrovs"][key]["median"] / systems["keepalived"][key]["median"]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


summary = {
    "command": "bench/scripts/failover.sh",
    "date": date,
    "commit": commit,
    "seconds_taken": int(took),
    "loadavg": {"start": load0, "end": " ".join(open("/proc/loadavg").read().split()[:3])},
    "ferrovs": ferrovs,
    "keepalived_version": ka_version or None,
    "vrrp": {"version": VERSION, "advert_int": ADVERT_INT, "priority_master": 150, "priority_backup": PRIO_B,
             "preempt": True, "addresses": ["10.99.0.100", "10.99.1.1/24"]},
    "skew": skew,
    "master_down_interval": mdi,
    "bound": bound,
    "rounds_asked": int(rounds),
    "adverts_captured": raw.get("adverts_captured"),
    "error": raw.get("error"),
    "systems": systems,
    "ratio_of_medians": {
        "kill_to_first_advert": ratio("kill_to_first_advert"),
        "last_advert_to_first_advert": ratio("last_advert_to_first_advert"),
    },
    "clock": "CLOCK_MONOTONIC on both sides: the kill stamped just before kill(2), adverts when "
             "vrrp_sniff.py on br0 (fvs-br) read them",
}
with open(os.path.join(out, "failover.json"), "w") as f:
    json.dump(summary, f, indent=2)


def ms(x):
    return "-" if x is None else f"{x * 1000:.0f}"


for name, s in systems.items():
    for key, label in (("kill_to_first_advert", "kill -> first advert"),
                       ("last_advert_to_first_advert", "last -> first advert")):
        t = s[key]
        print(f"  {name:10s} {label:21s} min {ms(t['min'])} median {ms(t['median'])} max {ms(t['max'])} ms, "
              f"over {bound * 1000:.0f} ms: {t['over_bound']} ({s['rounds_ok']}/{s['rounds_run']} rounds ok)")
    if s.get("error"):
        print(f"  {name}: {s['error']}")
r = summary["ratio_of_medians"]
print(f"  ferrovs / keepalived (medians): kill -> first {'-' if r['kill_to_first_advert'] is None else format(r['kill_to_first_advert'], '.3f')}, "
      f"last -> first {'-' if r['last_advert_to_first_advert'] is None else format(r['last_advert_to_first_advert'], '.3f')}")
if raw.get("error"):
    print(f"  error: {raw['error']}")
PY
rm -f "$OUT/failover-rounds.json"
log "done in $(( $(date +%s) - START )) s"

#!/usr/bin/env python3
"""VRRP takeover benchmark (bench/scripts/failover.sh): the rounds themselves.

    failover.py --ferrovs BIN --work DIR --out DIR [--rounds 20] [--budget 200]
                [--ka-reserve 60] [--systems "ferrovs keepalived"]

Runs on the namespace lab that failover.sh brought up (tests/lab/lab.sh with
LAB_DIRECTORS=2 LAB_KEEPALIVED=2). VRRP version 3, advert_int 0.1 s, one
instance VI_1 (VRID 51) owning 10.99.0.100 and 10.99.1.1/24, master priority
150, backup 100, preemption on. Per system, per round:

  1. wait until the master (A) is MASTER and the backup (B) BACKUP, and A's
     adverts flow (at least 3 since, none from B in the last 0.35 s), then a
     random 0..0.1 s so the kill falls anywhere in A's advert interval;
  2. SIGKILL A (ferrovs: the director; keepalived: its VRRP child, then the
     parent), the moment taken with time.monotonic() (CLOCK_MONOTONIC) just
     before kill(2);
  3. B's first advert on br0 (tests/lab/vrrp_sniff.py in fvs-br, the same
     clock): kill -> first advert, and A's last advert -> B's first advert
     (the protocol's part: Master_Down_Interval = 3 x 0.1 + 156 x 0.1 / 256
     = 0.361 s);
  4. restart A, and (next round's step 1) wait until it preempts: restart ->
     A's first advert is recorded too.

  ferrovs     two directors, fvs-lb (A, 10.99.0.3) and fvs-lb2 (B, 10.99.0.4),
              configs/lab.yaml as tests/lab_common/vrrp.rs writes them; state
              from ferrovs_vrrp_state{instance="VI_1"} on 127.0.0.1:9180 in
              each namespace (2 master, 1 backup).
  keepalived  fvs-ka1 (A, 10.99.0.5) and fvs-ka2 (B, 10.99.0.6), `keepalived
              -P -n -l -D -R -G` as tests/lab_vrrp_fixture.rs starts it; state
              from each one's vrrp_notify_fifo. A crash leaves the addresses
              on ka1's eth0: they are removed before ka1 restarts.

Every wait is bounded; every process started here is stopped by PID on every
exit path (SIGTERM, SIGINT and SIGHUP included). The first system stops
starting rounds when fewer than --ka-reserve seconds of --budget would be left
for the second. Writes OUT/failover-rounds.json (every round, both systems);
failover.sh summarises it into OUT/failover.json.
"""
import argparse
import ctypes
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
VIP = "10.99.0.100"
GW = "10.99.1.1/24"
VRID = 51
VERSION = 3
ADVERT_INT = 0.1
PRIO_A, PRIO_B = 150, 100
METRICS = ("127.0.0.1", 9180)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SNIFF = os.path.join(ROOT, "tests/lab/vrrp_sniff.py")

SETTLE_S = 40.0      # DPDK start-up plus an election, at most
TAKEOVER_S = 5.0     # kill -> B's first advert, at most
FLOW_S = 3.0         # A's adverts flowing after the states say so, at most


def log(msg):
    print(f"[failover {time.strftime('%T')}] {msg}", file=sys.stderr, flush=True)


class Interrupted(Exception):
    pass


def on_signal(sig, _frame):
    raise Interrupted(f"signal {sig}")


# ------------------------------------------------------------ processes

class Procs:
    """Every process this driver started; stopped by PID, bounded."""

    def __init__(self):
        self.live = []

    def start(self, argv, log_path):
        with open(log_path, "a") as f:
            f.write(f"--- {time.strftime('%FT%T')} {' '.join(argv)}\n")
        logf = open(log_path, "a")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        finally:
            logf.close()
        self.live.append(p)
        return p

    def forget(self, p):
        self.live = [q for q in self.live if q is not p]

    def stop(self, p, sig=signal.SIGTERM, within=15.0):
        """Signal, bounded wait, SIGKILL: the exit status."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=within)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        self.forget(p)
        return p.returncode

    def stop_all(self):
        for p in list(self.live):
            try:
                self.stop(p, within=10.0)
            except Exception as e:  # keep stopping the others
                log(f"stopping pid {p.pid}: {e}")


# --------------------------------------------------------------- capture

class Capture:
    """vrrp_sniff.py's JSON lines, read incrementally: the adverts."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.partial = ""
        self.adverts = []
        self.ready = False

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except OSError:
            return
        data = self.partial + data
        lines = data.split("\n")
        self.partial = lines.pop()
        for line in lines:
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("kind") == "ready":
                self.ready = True
            elif r.get("kind") == "vrrp" and r.get("vrid") == VRID:
                self.adverts.append(r)

    def from_src(self, src, after=float("-inf"), before=float("inf")):
        self.poll()
        return [a for a in self.adverts if a["src"] == src and after < a["t"] < before]

    def wait_first(self, src, after, timeout):
        end = time.monotonic() + timeout
        while True:
            got = self.from_src(src, after)
            if got:
                return got[0]
            if time.monotonic() >= end:
                return None
            time.sleep(0.005)


# --------------------------------------------------------------- metrics

libc = ctypes.CDLL(None, use_errno=True)
SELF_NS = None


def ns_socket(ns):
    """A TCP socket created inside namespace `ns` (the thread goes back)."""
    global SELF_NS
    if SELF_NS is None:
        SELF_NS = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            if libc.setns(SELF_NS, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(fd)
    return s


def ferrovs_state(ns):
    """ferrovs_vrrp_state of VI_1 in `ns` (0 init 1 backup 2 master 3 fault), or None."""
    try:
        s = ns_socket(ns)
    except OSError:
        return None
    try:
        s.settimeout(0.5)
        s.connect(METRICS)
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        buf = b""
        while len(buf) < (16 << 20):
            k = s.recv(65536)
            if not k:
                break
            buf += k
    except OSError:
        return None
    finally:
        s.close()
    for line in buf.decode("utf-8", "replace").splitlines():
        if line.startswith("ferrovs_vrrp_state{") and 'instance="VI_1"' in line:
            try:
                return int(float(line.rsplit(" ", 1)[1]))
            except ValueError:
                return None
    return None


class Fifo:
    """A keepalived vrrp_notify_fifo: the last INSTANCE "VI_1" state."""

    def __init__(self, path):
        self.path = path
        if not os.path.exists(path):
            os.mkfifo(path)
        # Read-write: never EOF while keepalived restarts.
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.partial = b""
        self.state = None
        self.lines = []

    def poll(self):
        for _ in range(100):
            try:
                k = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not k:
                break
            data = self.partial + k
            *lines, self.partial = data.split(b"\n")
            for line in lines:
                w = line.decode("utf-8", "replace").split()
                self.lines.append((time.monotonic(), " ".join(w)))
                if len(w) >= 3 and w[0] == "INSTANCE" and w[1] == '"VI_1"':
                    self.state = w[2]
        return self.state

    def close(self):
        os.close(self.fd)


# --------------------------------------------------------------- systems

def lab_yaml(ns_name, mac, addrs, prio, sock):
    """configs/lab.yaml for one director of the pair, as tests/lab_common/vrrp.rs writes it."""
    t = open(os.path.join(ROOT, "configs/lab.yaml")).read()
    mac_line = '    mac: "02:00:00:00:00:01"\n'
    addr_line = "    addresses: [10.99.0.1/24, 10.99.1.1/24]\n"
    for need in (mac_line, addr_line, "host_iface:", "/run/ferrovs/ferrovs.sock", 'listen: "127.0.0.1:9180"'):
        if need not in t:
            raise RuntimeError(f"configs/lab.yaml changed shape (no {need.strip()!r}); cannot derive {ns_name}'s config")
    t = t.replace(mac_line, f'    mac: "{mac}"\n', 1)
    t = t.replace(addr_line, f"    addresses: [{', '.join(addrs)}]\n", 1)
    t = t.replace("/run/ferrovs/ferrovs.sock", sock)
    t += "\nconn_max: 100000\n"
    t += (
        "\nvrrp:\n"
        "  - name: VI_1\n"
        "    port: eth0\n"
        f"    virtual_router_id: {VRID}\n"
        f"    priority: {prio}\n"
        f"    advert_int: {ADVERT_INT}\n"
        f"    version: {VERSION}\n"
        "    state: BACKUP\n"
        "    nopreempt: false\n"
        "    preempt_delay: 0\n"
        "    v3_checksum_as_v2: false\n"
        f"    virtual_ipaddress: [{VIP}, {GW}]\n"
        "    garp_master_repeat: 5\n"
        "    garp_master_delay: 5\n"
    )
    return t


def ka_conf(prio, fifo):
    return (
        "global_defs {\n"
        "  router_id ferrovs_bench\n"
        f"  vrrp_version {VERSION}\n"
        f"  vrrp_notify_fifo {fifo}\n"
        "}\n\n"
        "vrrp_instance VI_1 {\n"
        "  interface eth0\n"
        "  state BACKUP\n"
        f"  virtual_router_id {VRID}\n"
        f"  priority {prio}\n"
        f"  advert_int {ADVERT_INT}\n"
        "  virtual_ipaddress {\n"
        f"    {VIP}\n"
        f"    {GW}\n"
        "  }\n"
        "}\n"
    )


class Ferrovs:
    name = "ferrovs"
    a_src, b_src = "10.99.0.3", "10.99.0.4"

    def __init__(self, procs, binary, work, out):
        self.procs, self.bin, self.out = procs, binary, out
        self.cfg = {}
        for side, ns, mac, addrs, prio in (
            ("A", "fvs-lb", "02:00:00:00:00:01", ["10.99.0.3/24", "10.99.1.3/24"], PRIO_A),
            ("B", "fvs-lb2", "02:00:00:00:00:02", ["10.99.0.4/24", "10.99.1.4/24"], PRIO_B),
        ):
            path = os.path.join(work, f"ferrovs-{side}.yaml")
            with open(path, "w") as f:
                f.write(lab_yaml(ns, mac, addrs, prio, os.path.join(work, f"ferrovs-{side}.sock")))
            self.cfg[side] = (ns, path)
        self.p = {}

    def start(self, side):
        ns, path = self.cfg[side]
        self.p[side] = self.procs.start(["ip", "netns", "exec", ns, self.bin, "run", "--config", path],
                                        os.path.join(self.out, f"failover-ferrovs-{side}.log"))

    def start_pair(self):
        self.start("A")
        self.start("B")

    def alive(self):
        return all(p.poll() is None for p in self.p.values())

    def states(self):
        return ferrovs_state(self.cfg["A"][0]), ferrovs_state(self.cfg["B"][0])

    def settled(self):
        return self.states() == (2, 1)

    def kill_a(self):
        p = self.p["A"]
        t = time.monotonic()
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        self.procs.forget(p)
        return t

    def restart_a(self):
        self.start("A")

    def stop(self):
        codes = {}
        for side in ("A", "B"):
            if side in self.p:
                codes[side] = self.procs.stop(self.p.pop(side))
        return codes


class Keepalived:
    name = "keepalived"
    a_src, b_src = "10.99.0.5", "10.99.0.6"

    def __init__(self, procs, work, out):
        self.procs, self.work, self.out = procs, work, out
        self.fifo, self.conf, self.p = {}, {}, {}
        for side, prio in (("A", PRIO_A), ("B", PRIO_B)):
            ns = "ka1" if side == "A" else "ka2"
            fifo = os.path.join(work, f"{ns}.fifo")
            self.fifo[side] = Fifo(fifo)
            conf = os.path.join(work, f"{ns}.conf")
            with open(conf, "w") as f:
                f.write(ka_conf(prio, fifo))
            self.conf[side] = (ns, conf)

    def vrrp_pid(self, side):
        ns, conf = self.conf[side]
        try:
            pid = int(open(os.path.join(self.work, f"{ns}-vrrp.pid")).read().strip())
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except (OSError, ValueError):
            return None
        return pid if conf.encode() in cmd else None

    def start(self, side):
        ns, conf = self.conf[side]
        vpf = os.path.join(self.work, f"{ns}-vrrp.pid")
        try:
            os.unlink(vpf)
        except FileNotFoundError:
            pass
        self.fifo[side].poll()
        self.fifo[side].state = None
        self.p[side] = self.procs.start(
            ["ip", "netns", "exec", f"fvs-{ns}", "keepalived", "-P", "-n", "-l", "-D", "-R", "-G",
             "-f", conf, "-p", os.path.join(self.work, f"{ns}.pid"), "-r", vpf],
            os.path.join(self.out, f"failover-{ns}.log"))
        end = time.monotonic() + 10
        while self.vrrp_pid(side) is None and time.monotonic() < end and self.p[side].poll() is None:
            time.sleep(0.02)
        if self.vrrp_pid(side) is None:
            raise RuntimeError(f"keepalived in fvs-{ns} did not start (see failover-{ns}.log)")

    def start_pair(self):
        self.start("A")
        self.start("B")

    def alive(self):
        return all(p.poll() is None for p in self.p.values())

    def states(self):
        return self.fifo["A"].poll(), self.fifo["B"].poll()

    def settled(self):
        return self.states() == ("MASTER", "BACKUP")

    def kill_a(self):
        """A crash: SIGKILL to the VRRP child (the sender), then to the parent."""
        vp = self.vrrp_pid("A")
        if vp is None:
            raise RuntimeError("ka1's VRRP child is gone before the kill")
        t = time.monotonic()
        os.kill(vp, signal.SIGKILL)
        p = self.p["A"]
        try:
            p.kill()
        except ProcessLookupError:
            pass
        p.wait(timeout=10)
        self.procs.forget(p)
        # The child is reparented and reaped elsewhere: bounded wait for it to go.
        end = time.monotonic() + 5
        while os.path.exists(f"/proc/{vp}") and time.monotonic() < end:
            try:
                if open(f"/proc/{vp}/stat").read().split(")")[-1].split()[0] == "Z":
                    break
            except OSError:
                break
            time.sleep(0.01)
        return t

    def restart_a(self):
        # A crashed keepalived leaves its addresses on the interface; a
        # rebooted node would not have them.
        for a in (f"{VIP}/32", GW):
            subprocess.run(["ip", "-n", "fvs-ka1", "addr", "del", a, "dev", "eth0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=False)
        self.start("A")

    def stop(self):
        codes = {}
        for side in ("A", "B"):
            if side in self.p:
                vp = self.vrrp_pid(side)
                codes[side] = self.procs.stop(self.p.pop(side), within=10.0)
                if vp is not None and self.vrrp_pid(side) == vp:
                    os.kill(vp, signal.SIGKILL)
        for side in ("A", "B"):
            self.fifo[side].close()
        return codes


# ----------------------------------------------------------------- rounds

def wait_settled(sys_, cap, since):
    """A MASTER, B BACKUP, A's adverts flowing: (when the states said so,
    A's first advert since `since`) or raises."""
    end = time.monotonic() + SETTLE_S
    seen = None
    while time.monotonic() < end:
        if not sys_.alive():
            raise RuntimeError(f"{sys_.name}: a process exited while waiting for the election")
        if sys_.settled():
            seen = time.monotonic()
            break
        time.sleep(0.05)
    if seen is None:
        raise RuntimeError(f"{sys_.name}: A not MASTER / B not BACKUP within {SETTLE_S:.0f} s (states {sys_.states()})")
    end = time.monotonic() + FLOW_S
    while time.monotonic() < end:
        now = time.monotonic()
        a = cap.from_src(sys_.a_src, seen)
        b = cap.from_src(sys_.b_src, now - 3.5 * ADVERT_INT)
        if len(a) >= 3 and not b:
            first = cap.from_src(sys_.a_src, since)
            return seen, (first[0]["t"] if first else None)
        time.sleep(0.02)
    raise RuntimeError(f"{sys_.name}: A's adverts not flowing alone {FLOW_S:.0f} s after the states settled")


def one_round(sys_, cap, r):
    # The kill falls anywhere in A's advert interval.
    time.sleep(random.uniform(0.0, ADVERT_INT))
    if not sys_.settled():
        raise RuntimeError(f"{sys_.name}: states changed before the kill: {sys_.states()}")
    before = cap.from_src(sys_.a_src, time.monotonic() - 1.0)
    kill_t = sys_.kill_a()
    first_b = cap.wait_first(sys_.b_src, kill_t, TAKEOVER_S)
    rec = {"round": r, "kill_t": kill_t, "ok": first_b is not None}
    gaps = [b["t"] - a["t"] for a, b in zip(before, before[1:])]
    rec["a_gap_median_before"] = statistics.median(gaps) if gaps else None
    if first_b is None:
        rec["note"] = f"no advert from B within {TAKEOVER_S:.0f} s of the kill"
        return rec
    last_a = cap.from_src(sys_.a_src, before=first_b["t"])
    last_a = last_a[-1] if last_a else None
    after = cap.from_src(sys_.a_src, kill_t)
    rec.update({
        "first_b_t": first_b["t"],
        "first_b_priority": first_b.get("priority"),
        "kill_to_first_advert": first_b["t"] - kill_t,
        "last_a_t": last_a["t"] if last_a else None,
        "last_advert_to_first_advert": first_b["t"] - last_a["t"] if last_a else None,
        "kill_after_last_a": kill_t - last_a["t"] if last_a else None,
        "a_adverts_after_kill": len(after),
    })
    # The adverts around the takeover, for a round worth a second look.
    rec["window"] = [{"src": a["src"], "t": round(a["t"] - kill_t, 4), "prio": a.get("priority")}
                     for a in cap.adverts if kill_t - 0.35 <= a["t"] <= first_b["t"] + 0.25]
    return rec


def run_system(sys_, cap, rounds, deadline):
    recs = []
    err = None
    try:
        since = time.monotonic()
        sys_.start_pair()
        seen, _ = wait_settled(sys_, cap, since)
        log(f"{sys_.name}: A MASTER, B BACKUP {seen - since:.2f} s after start")
        for r in range(1, rounds + 1):
            took = [x["seconds"] for x in recs]
            est = max(took) if took else 0.0
            if time.monotonic() + est > deadline:
                log(f"{sys_.name}: time budget: rounds {r}..{rounds} skipped")
                break
            r0 = time.monotonic()
            rec = one_round(sys_, cap, r)
            restarted = time.monotonic()
            sys_.restart_a()
            try:
                seen, first_a = wait_settled(sys_, cap, restarted)
                rec["restart_to_settled"] = seen - restarted
                rec["restart_to_first_a_advert"] = first_a - restarted if first_a else None
            except RuntimeError as e:
                rec["seconds"] = time.monotonic() - r0
                recs.append(rec)
                raise e
            rec["seconds"] = time.monotonic() - r0
            recs.append(rec)
            if rec["ok"]:
                log(f"{sys_.name} round {r}: kill -> B's first advert {rec['kill_to_first_advert']:.3f} s, "
                    f"A's last -> B's first {rec['last_advert_to_first_advert']:.3f} s; "
                    f"A back and MASTER {rec['restart_to_settled']:.2f} s after restart")
            else:
                log(f"{sys_.name} round {r}: {rec.get('note')}")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        err = str(e)
        log(f"{sys_.name}: {err}")
    codes = sys_.stop()
    return {"rounds": recs, "error": err, "exit": codes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrovs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--budget", type=float, default=200.0)
    ap.add_argument("--ka-reserve", type=float, default=60.0)
    ap.add_argument("--systems", default="ferrovs keepalived")
    a = ap.parse_args()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    t_start = time.monotonic()
    rounds = max(0, min(a.rounds, 1000))
    systems = a.systems.split()
    procs = Procs()
    result = {"systems": {}}
    try:
        cap_path = os.path.join(a.work, "capture.jsonl")
        sniff = procs.start(["ip", "netns", "exec", "fvs-br", "python3", SNIFF, "--iface", "br0",
                             "--out", cap_path, "--lifetime", str(int(a.budget + 60))],
                            os.path.join(a.work, "sniff.log"))
        cap = Capture(cap_path)
        end = time.monotonic() + 10
        while not cap.ready and time.monotonic() < end and sniff.poll() is None:
            cap.poll()
            time.sleep(0.02)
        if not cap.ready:
            raise RuntimeError("the sniffer on br0 did not start")
        for i, name in enumerate(systems):
            left = len(systems) - i - 1
            deadline = t_start + a.budget - left * a.ka_reserve
            if name == "ferrovs":
                sys_ = Ferrovs(procs, a.ferrovs, a.work, a.out)
            elif name == "keepalived":
                sys_ = Keepalived(procs, a.work, a.out)
            else:
                raise RuntimeError(f"unknown system {name}")
            log(f"{name}: up to {rounds} rounds, {deadline - time.monotonic():.0f} s left for them")
            result["systems"][name] = run_system(sys_, cap, rounds, deadline)
        cap.poll()
        result["adverts_captured"] = len(cap.adverts)
    except Interrupted as e:
        result["error"] = f"interrupted ({e})"
        log(result["error"])
    except (RuntimeError, OSError) as e:
        result["error"] = str(e)
        log(result["error"])
    finally:
        procs.stop_all()
        with open(os.path.join(a.out, "failover-rounds.json"), "w") as f:
            json.dump(result, f, indent=1)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())

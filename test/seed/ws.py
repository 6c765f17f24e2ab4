#!/usr/bin/env python3
"""The seed's service ws, ported to Python 3, and a peer that dials it.

ZK is ZooKeeper's host:port. Entries are ephemeral znodes under /services/ws
named <hostname>.mgmt.pix.yun.com:9999, made through kazoo (Debian's
python3-kazoo) as the seed's service registers them.

ws.py serve ZK
    What each ws pod runs, as the seed wrote it: read /etc/hostname, resolve
    it with socket.gethostbyname (glibc reads /etc/hosts, where the kubelet put
    the pod's IP), listen on that one IP, port 9999, then register
    <hostname>.mgmt.pix.yun.com:9999 in ZooKeeper as an ephemeral znode. Every
    connection gets the hostname back, then is closed. On SIGTERM it closes its
    ZooKeeper session, so the znode vanishes at once, and exits 0; a killed
    process's znode vanishes when its session times out.

ws.py list ZK
    Prints the registered entries, one a line, sorted.

ws.py dial ZK
    What a peer does with ZooKeeper's entries, once: resolve each through glibc
    (socket.getaddrinfo, so /etc/resolv.conf's search list and ndots apply),
    connect, read the answer. Prints "ENTRY -> IP -> ANSWER" per entry on
    stdout, how long each resolution took on stderr, and exits 1 if any entry
    failed.

ws.py watch ZK
    A peer that keeps dialling until SIGTERM: it watches the children of
    /services/ws and dials every live entry in rounds, a round at once on each
    change. Prints "registry ENTRY,ENTRY,..." on each change and
    "dial ENTRY IP RESULT DETAIL" per dial, where RESULT is ok (the entry's own
    hostname answered), wrong (another hostname answered: DETAIL), refused,
    nxdomain, or error (DETAIL says what), and IP is - when the name did not
    resolve.

Entries are registered as the application writes them, without a trailing
dot, as a real pod would. With a pod's resolv.conf (ndots:5, search
<ns>.svc.cluster.local svc.cluster.local cluster.local) glibc first tries the
name under each search domain; CoreDNS's kubernetes plugin answers those with
NXDOMAIN, and the name as given is then answered by podname.
"""

import signal
import socket
import sys
import threading
import time

from kazoo.client import KazooClient

ZONE = "mgmt.pix.yun.com"
PORT = 9999
REGISTRY = "/services/ws"
DIAL_TIMEOUT = 10  # seconds for one connect or read
ROUND_PAUSE = 0.05  # seconds between the watch's rounds when nothing changes


def get_hostname():
    with open("/etc/hostname") as f:
        return f.read().strip()


def log(msg):
    print("ws: " + msg, file=sys.stderr, flush=True)


def connect(zk_hosts):
    zk = KazooClient(hosts=zk_hosts)
    zk.start(timeout=30)
    return zk


def serve(zk_hosts):
    # The seed's program, unchanged but for Python 3 and a real ZooKeeper client.
    hostname = get_hostname()
    ip = socket.gethostbyname(hostname)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Not in the seed's program: in a cluster each pod has a network namespace of its own, but
    # here every pod shares the test's, so a new pod that got a deleted pod's IP would find the
    # old listener's connections in TIME_WAIT on IP:9999 and fail to bind without this.
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((ip, PORT))
    server.listen(10)

    # Registered once listening, so a peer that finds the entry can connect.
    entry = "%s.%s:%d" % (hostname, ZONE, PORT)
    zk = connect(zk_hosts)

    def stop(signum, frame):
        # The session's end deletes the ephemeral znode; the listener closes on exit.
        zk.stop()
        zk.close()
        log("%s: SIGTERM: session closed, %s unregistered" % (hostname, entry))
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    zk.ensure_path(REGISTRY)
    zk.create("%s/%s" % (REGISTRY, entry), entry.encode(), ephemeral=True)
    log("%s: listening on %s:%d, registered %s" % (hostname, ip, PORT, entry))
    while True:
        conn, peer = server.accept()
        with conn:
            conn.sendall((hostname + "\n").encode())
        log("%s: answered %s" % (hostname, peer[0]))


def entries(zk):
    if not zk.exists(REGISTRY):
        return []
    return sorted(zk.get_children(REGISTRY))


def read_all(sock):
    chunks = []
    while True:
        b = sock.recv(4096)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def dial_one(entry):
    """Returns (addresses, answer) for one registry entry, or raises."""
    host, _, port = entry.rpartition(":")
    start = time.monotonic()
    infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    log("resolved %s in %.1f ms: %s" % (host, (time.monotonic() - start) * 1000,
                                        " ".join(i[4][0] for i in infos)))
    addresses = []
    for info in infos:
        if info[4][0] not in addresses:
            addresses.append(info[4][0])
    last = None
    # The first address that accepts, in getaddrinfo's order, as
    # socket.create_connection picks it.
    for family, kind, proto, _, addr in infos:
        try:
            with socket.socket(family, kind, proto) as s:
                s.settimeout(DIAL_TIMEOUT)
                s.connect(addr)
                return addresses, read_all(s).decode().strip()
        except OSError as e:
            last = "connect %s: %s" % (addr[0], e)
    raise OSError(last or "no address")


def probe(entry):
    """Dials entry as the watch does: returns (IP, RESULT, DETAIL)."""
    host, _, port = entry.rpartition(":")
    want = host[:-len("." + ZONE)] if host.endswith("." + ZONE) else host
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        if e.errno == socket.EAI_NONAME:
            return "-", "nxdomain", str(e)
        return "-", "error", "resolve: %s" % e
    family, kind, proto, _, addr = infos[0]
    try:
        with socket.socket(family, kind, proto) as s:
            s.settimeout(DIAL_TIMEOUT)
            s.connect(addr)
            answer = read_all(s).decode().strip()
    except ConnectionRefusedError as e:
        return addr[0], "refused", str(e)
    except OSError as e:
        return addr[0], "error", "connect: %s" % e
    if answer == want:
        return addr[0], "ok", answer
    if not answer:
        return addr[0], "error", "closed without an answer"
    return addr[0], "wrong", answer


_out = threading.Lock()


def out(line):
    """Prints one whole line on stdout, whichever thread calls."""
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def watch(zk_hosts):
    stop = threading.Event()
    changed = threading.Event()
    lock = threading.Lock()
    live = []

    def on_sigterm(signum, frame):
        stop.set()
        changed.set()

    signal.signal(signal.SIGTERM, on_sigterm)
    zk = connect(zk_hosts)
    zk.ensure_path(REGISTRY)

    def on_children(children):
        with lock:
            live[:] = sorted(children)
            out("registry " + ",".join(live))
        changed.set()

    zk.ChildrenWatch(REGISTRY, on_children)
    rounds = 0
    while not stop.is_set():
        changed.clear()
        with lock:
            now = list(live)
        for entry in now:
            if stop.is_set():
                break
            ip, result, detail = probe(entry)
            out("dial %s %s %s %s" % (entry, ip, result, detail))
        rounds += 1
        changed.wait(ROUND_PAUSE)
    zk.stop()
    zk.close()
    log("watch: %d rounds, stopped by SIGTERM" % rounds)
    return 0


def dial(zk_hosts):
    zk = connect(zk_hosts)
    found = entries(zk)
    zk.stop()
    zk.close()
    if not found:
        print("registry %s is empty" % REGISTRY, flush=True)
        return 1
    failed = 0
    for entry in found:
        try:
            addresses, answer = dial_one(entry)
        except (OSError, ValueError) as e:
            print("%s -> ERROR %s" % (entry, e), flush=True)
            failed += 1
            continue
        print("%s -> %s -> %s" % (entry, ",".join(addresses), answer), flush=True)
    return 1 if failed else 0


def list_entries(zk_hosts):
    zk = connect(zk_hosts)
    for entry in entries(zk):
        print(entry, flush=True)
    zk.stop()
    zk.close()
    return 0


def main(argv):
    modes = {"serve": serve, "list": list_entries, "dial": dial, "watch": watch}
    if len(argv) != 3 or argv[1] not in modes:
        print("usage: ws.py serve|list|dial|watch ZK", file=sys.stderr)
        return 2
    return modes[argv[1]](argv[2]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

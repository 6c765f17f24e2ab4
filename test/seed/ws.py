#!/usr/bin/env python3
"""The seed's service ws, ported to Python 3, and a peer that dials it.

ws.py serve REGISTRY
    What each ws pod runs, as the seed wrote it: read /etc/hostname, resolve
    it with socket.gethostbyname (glibc reads /etc/hosts, where the kubelet put
    the pod's IP), listen on that one IP, port 9999, then register
    <hostname>.mgmt.pix.yun.com:9999 in REGISTRY, a directory standing in for
    ZooKeeper. Every connection gets the hostname back, then is closed.

ws.py dial REGISTRY
    What a peer does with ZooKeeper's entries: resolve each through glibc
    (socket.getaddrinfo, so /etc/resolv.conf's search list and ndots apply),
    connect, read the answer. Prints "ENTRY -> IP -> ANSWER" per entry on
    stdout, how long each resolution took on stderr, and exits 1 if any entry
    failed.

Entries are registered as the application writes them, without a trailing
dot, as a real pod would. With a pod's resolv.conf (ndots:5, search
<ns>.svc.cluster.local svc.cluster.local cluster.local) glibc first tries the
name under each search domain; CoreDNS's kubernetes plugin answers those with
NXDOMAIN, and the name as given is then answered by podname.
"""

import os
import socket
import sys
import time

ZONE = "mgmt.pix.yun.com"
PORT = 9999
DIAL_TIMEOUT = 10  # seconds for one connect or read


def get_hostname():
    with open("/etc/hostname") as f:
        return f.read().strip()


def log(msg):
    print("ws: " + msg, file=sys.stderr, flush=True)


def register(registry, entry):
    """Adds entry to the registry: one file per entry, renamed into place so a
    reader never sees half of it."""
    tmp = os.path.join(registry, ".tmp-" + entry)
    with open(tmp, "w") as f:
        f.write(entry + "\n")
    os.replace(tmp, os.path.join(registry, entry))


def entries(registry):
    out = []
    for name in sorted(os.listdir(registry)):
        if name.startswith("."):
            continue
        with open(os.path.join(registry, name)) as f:
            out.append(f.read().strip())
    return out


def serve(registry):
    # The seed's program, unchanged but for Python 3.
    hostname = get_hostname()
    ip = socket.gethostbyname(hostname)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((ip, PORT))
    server.listen(10)

    # Registered once listening, so a peer that finds the entry can connect.
    entry = "%s.%s:%d" % (hostname, ZONE, PORT)
    register(registry, entry)
    log("%s: listening on %s:%d, registered %s" % (hostname, ip, PORT, entry))
    while True:
        conn, peer = server.accept()
        with conn:
            conn.sendall((hostname + "\n").encode())
        log("%s: answered %s" % (hostname, peer[0]))


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


def dial(registry):
    found = entries(registry)
    if not found:
        print("registry %s is empty" % registry, flush=True)
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


def main(argv):
    if len(argv) != 3 or argv[1] not in ("serve", "dial"):
        print("usage: ws.py serve|dial REGISTRY", file=sys.stderr)
        return 2
    if argv[1] == "serve":
        serve(argv[2])
        return 0
    return dial(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))

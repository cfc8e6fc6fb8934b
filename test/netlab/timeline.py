#!/usr/bin/env python3
"""timeline.py T0 PEERID LOG [PEERID LOG]...: when a node first had a
relayed connection with its contact, and when a hole punch to it succeeded,
read from go-libp2p's debug logs (GOLOG_LOG_LEVEL p2p-circuit=debug,
p2p-holepunch=debug). Prints e.g. "alice: relayed@0.41s punched@0.45s",
times in seconds since T0 (a Unix time stamp)."""

import re
import sys
from datetime import datetime

TS = re.compile(r"^ts=(\S+)")


def when(line):
    m = TS.match(line)
    if not m:
        return None
    return datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()


def main():
    t0 = float(sys.argv[1])
    args = sys.argv[2:]
    out = []
    for i in range(0, len(args) - 1, 2):
        peer, path = args[i], args[i + 1]
        name = path.rsplit("/", 1)[-1].split(".")[0]
        relayed = punched = failed = None
        attempts = 0
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            if peer not in line:
                continue
            t = when(line)
            if t is None:
                continue
            if relayed is None and ('msg="dialing peer through relay"' in line or 'msg="accepted relay connection"' in line):
                relayed = t
            if 'msg=holepunchConnect' in line:
                attempts += 1
            if punched is None and 'msg="hole punch successful"' in line:
                punched = t
            if "logger=p2p-holepunch" in line and ("failed" in line or "error handling" in line):
                failed = t
        parts = []
        if relayed is not None:
            parts.append("relayed@%.2fs" % (relayed - t0))
        if attempts:
            parts.append("punch-attempts=%d" % attempts)
        if punched is not None:
            parts.append("punched@%.2fs" % (punched - t0))
        elif failed is not None:
            parts.append("punch-failed@%.2fs" % (failed - t0))
        out.append("%s: %s" % (name, " ".join(parts) or "no relay/punch log lines"))
    print("; ".join(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The outbox Maildir as the scenario tests read it.

  maildir.py list MAILDIR    one line per message, oldest first:
                             PATH <TAB> To address(es) <TAB> Message-ID
"""
import email
import email.policy
import os
import re
import sys


def order(path):
    # imi send names files imi.SEQ.RANDOM: the outbox sequence orders them.
    m = re.match(r"imi\.(\d+)\.", os.path.basename(path))
    return (int(m.group(1)) if m else 0, os.stat(path).st_mtime_ns)


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "list":
        sys.exit(__doc__)
    paths = []
    for sub in ("new", "cur"):
        d = os.path.join(sys.argv[2], sub)
        if os.path.isdir(d):
            paths += [os.path.join(d, f) for f in os.listdir(d)]
    for path in sorted(paths, key=order):
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        to = ",".join(a.addr_spec for a in m["To"].addresses) if m["To"] else ""
        mid = str(m.get("Message-Id", "")).strip("<>")
        print("%s\t%s\t%s" % (path, to, mid))


if __name__ == "__main__":
    main()

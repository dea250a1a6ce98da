#!/usr/bin/env python3
"""smtp_load.py: sends prepared messages over concurrent SMTP sessions.

    smtp_load.py HOST PORT SESSIONS LIST

LIST has one line per message: envelope sender, envelope recipient and the
path of the message file, separated by tabs.  SESSIONS threads each open one
SMTP session and send their share of the messages on it (RSET between
messages, as smtp-source does).  Prints "sent N failed F seconds S" on stdout;
exit 1 when any message was refused.  Used by tools/bench/mta.sh.
"""
import smtplib
import sys
import threading
import time


def main():
    host, port, sessions, listing = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    jobs = []
    with open(listing) as f:
        for line in f:
            sender, rcpt, path = line.rstrip("\n").split("\t")
            with open(path, "rb") as m:
                jobs.append((sender, rcpt, m.read()))
    shares = [jobs[i::sessions] for i in range(sessions)]
    failed = []
    lock = threading.Lock()

    def run(share):
        if not share:
            return
        s = smtplib.SMTP(host, port, local_hostname="load.test", timeout=120)
        try:
            for sender, rcpt, data in share:
                try:
                    s.sendmail(sender, [rcpt], data)
                except smtplib.SMTPException as e:
                    with lock:
                        failed.append(str(e))
                    s.rset()
            s.quit()
        except (smtplib.SMTPException, OSError) as e:
            with lock:
                failed.append(str(e))

    threads = [threading.Thread(target=run, args=(sh,)) for sh in shares]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    print("sent %d failed %d seconds %.3f" % (len(jobs) - len(failed), len(failed), elapsed))
    for e in failed[:5]:
        print("refused: %s" % e, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

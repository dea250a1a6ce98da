#!/usr/bin/env python3
"""Helpers of make demo, over the outbox Maildir that `imi send` fills.

  mail.py show MAILDIR TO KIND [LINES]   print the newest message to TO whose
                                         Message-ID names KIND, decoded
  mail.py replyto MAILDIR TO KIND        print its Reply-To address
  mail.py grep MAILDIR TO KIND REGEX     print the first match of REGEX in its text
  mail.py outlook MAILDIR TO KIND FILE   write FILE: an Outlook-style reply
                                         (German, windows-1252, quoted-printable,
                                         top-posted above the quoted request)
"""
import email
import email.policy
import glob
import os
import sys
from email.message import EmailMessage


def find(maildir, to, kind):
    best = None
    for path in sorted(glob.glob(os.path.join(maildir, "new", "*")) +
                       glob.glob(os.path.join(maildir, "cur", "*")),
                       key=os.path.getmtime):
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        mid = str(m.get("Message-Id", ""))
        if to in str(m.get("To", "")) and ("." + kind + "@" in mid or "." + kind + "." in mid):
            best = m
    if best is None:
        sys.exit("no message to %s of kind %s in %s" % (to, kind, maildir))
    return best


def text_of(m):
    for part in m.walk():
        if part.get_content_type() == "text/plain":
            return part.get_content()
    return ""


def main():
    cmd, maildir, to, kind = sys.argv[1:5]
    m = find(maildir, to, kind)
    if cmd == "show":
        lines = int(sys.argv[5]) if len(sys.argv) > 5 else 40
        for h in ("From", "To", "Subject", "Reply-To"):
            print("   %s: %s" % (h, m[h]))
        print()
        body = text_of(m).splitlines()
        for line in body[:lines]:
            print("   " + line)
        if len(body) > lines:
            print("   [... %d more lines]" % (len(body) - lines))
    elif cmd == "grep":
        import re
        found = re.search(sys.argv[5], text_of(m))
        if found is None:
            sys.exit("no match of %s" % sys.argv[5])
        print(found.group(0))
    elif cmd == "replyto":
        print(m["Reply-To"].addresses[0].addr_spec)
    elif cmd == "outlook":
        answers = sys.stdin.read()
        quoted = text_of(m)
        r = EmailMessage()
        r["From"] = "Klaus Schmidt <k.schmidt@aekno.example.de>"
        r["To"] = m["Reply-To"].addresses[0].addr_spec
        r["Subject"] = "AW: " + str(m["Subject"])
        r["Date"] = email.utils.formatdate(localtime=True)
        r["Message-ID"] = email.utils.make_msgid(domain="EXMBX01.aekno.example.de")
        r["In-Reply-To"] = m["Message-Id"]
        r["Thread-Topic"] = str(m["Subject"])
        r["Content-Language"] = "de-DE"
        body = (answers + "\n\nMit freundlichen Grüßen\nKlaus Schmidt\nÄrztekammer Nordrhein\n\n"
                "Von: %s\nGesendet: %s\nAn: %s\nBetreff: %s\n\n%s"
                % (m["From"], m["Date"], m["To"], m["Subject"], quoted))
        r.set_content(body, charset="windows-1252", cte="quoted-printable")
        with open(sys.argv[5], "wb") as f:
            f.write(bytes(r))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Canaries in every field of an alert, and where they end up.

  alertcanary.py plant SET.ini DIR FROM TO SUBJECT
      Writes DIR/reply.eml: a reply (multipart/mixed, from FROM to TO) whose
      body answers every question of the set with a random canary where the
      field can hold one, attaches a document whose file name and bytes are
      canaries, and has canaries in free text outside the answers (a greeting
      and a signature).  Writes DIR/canaries.tsv: NAME <TAB> VALUE <TAB> CLASS
      (NAME is "DIR's last component:field", e.g. "r1:Q6"),
      CLASS "public" (a field the set marks Personal=false, or the document
      when every attachment question of the set is Personal=false),
      "personal" (every other field and document) or "outside" (text that is
      no field).
  alertcanary.py find MAIL CANARIES.tsv...
      Decodes every header (RFC 2047), every part (base64, quoted-printable,
      charsets) and every file name (RFC 2231) of MAIL, and prints the NAME
      of each canary found in the decoded text or in the raw bytes, sorted.
  alertcanary.py public CANARIES.tsv
      Prints the NAMEs of class "public", sorted.
  alertcanary.py fields CANARIES.tsv
      Prints the NAMEs of classes "public" and "personal", sorted.

Fields whose values come from a closed vocabulary (check-list boxes, choices,
the country of establishment, which must name a country) cannot carry a
canary and get a valid value; a date field gets a random date of the last
century as its canary.
"""
import configparser
import email
import email.policy
import os
import random
import string
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

# The field of a set that names the country of establishment (alerts.ini).
ESTABLISHMENT = {"sd-alert": "Q8"}


def token():
    return "Cny" + "".join(random.choice(string.ascii_lowercase + string.digits)
                           for _ in range(12))


def load_set(path):
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.optionxform = str
    ini.read(path, encoding="utf-8")
    return ini


def personal(ini, code):
    kind = ini[code].get("Type", "text")
    default = kind in ("text", "attachment")
    value = ini[code].get("Personal")
    if value is None:
        return default
    return value.strip().lower() == "true"


def plant(set_path, out_dir, sender, to, subject):
    ini = load_set(set_path)
    tag = os.path.basename(out_dir.rstrip("/"))
    set_id = ini["Set"]["Id"]
    base_id = set_id if set_id in ESTABLISHMENT else set_id.rsplit("-", 1)[0]
    establishment = ESTABLISHMENT.get(base_id)
    rows, lines = [], []
    docs_personal = False
    has_attachment_question = False
    greeting = token()
    rows.append(("outside-greeting", greeting, "outside"))
    lines.append("Bonjour, voici l'alerte complétée (%s)." % greeting)
    lines.append("")
    for code in ini["Set"]["Questions"].split(";"):
        kind = ini[code].get("Type", "text")
        cls = "personal" if personal(ini, code) else "public"
        if kind == "check":
            lines.append("%s: yes" % code)
        elif kind == "choice":
            lines.append("%s: %s" % (code, ini[code]["Choices"].split(";")[0]))
        elif code == establishment:
            lines.append("%s: DE" % code)
        elif kind == "date":
            value = "19%02d-%02d-%02d" % (random.randint(30, 99), random.randint(1, 12),
                                          random.randint(1, 28))
            rows.append((code, value, cls))
            lines.append("%s: %s" % (code, value))
        else:
            if kind == "attachment":
                has_attachment_question = True
                docs_personal = docs_personal or cls == "personal"
            value = token()
            rows.append((code, value, cls))
            # Non-ASCII around it, so the text must be encoded.
            lines.append("%s: Größe %s Überprüfung" % (code, value))
    doc_class = "personal" if docs_personal or not has_attachment_question else "public"
    doc_name, doc_body = token(), token()
    rows.append(("document-name", doc_name, doc_class))
    rows.append(("document-body", doc_body, doc_class))
    signature = token()
    rows.append(("outside-signature", signature, "outside"))
    lines += ["", "-- ", "Anne Durand %s" % signature, ""]

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    msg.set_content("\n".join(lines), charset="utf-8", cte="quoted-printable")
    body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n(" + doc_body.encode() + \
        b")\n\x00\x01\x02\xff\n%%EOF\n"
    msg.add_attachment(body, maintype="application", subtype="pdf",
                       filename="Bericht-%s.pdf" % doc_name)
    with open(os.path.join(out_dir, "reply.eml"), "wb") as f:
        f.write(msg.as_bytes(policy=email.policy.SMTP.clone(linesep="\n")))
    with open(os.path.join(out_dir, "canaries.tsv"), "w", encoding="utf-8") as f:
        for name, value, cls in rows:
            f.write("%s:%s\t%s\t%s\n" % (tag, name, value, cls))


def read_rows(paths):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows += [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return rows


def decoded_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = []
    for part in msg.walk():
        for name, value in part.items():
            out.append("%s: %s" % (name, str(value)))
        if part.get_filename():
            out.append(part.get_filename())
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text":
            out.append(part.get_content())
        out.append(payload.decode("utf-8", "replace"))
        out.append(payload.decode("latin-1"))
    return "\n".join(out), raw.decode("latin-1")


def find(mail, canary_files):
    text, raw = decoded_text(mail)
    found = sorted({name for name, value, _ in read_rows(canary_files)
                    if value in text or value in raw})
    for name in found:
        print(name)


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "plant":
        plant(*sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "find":
        find(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] in ("public", "fields"):
        want = ("public",) if sys.argv[1] == "public" else ("public", "personal")
        for name in sorted(n for n, _, c in read_rows([sys.argv[2]]) if c in want):
            print(name)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Looks for canary strings in files, in every encoding mail and storage use.

  canary_scan.py [--quiet] --canary TEXT [--canary TEXT ...] PATH...
  canary_scan.py [--quiet] --canaries FILE PATH...      (one canary a line)
  canary_scan.py [--quiet] --canary-hex HEX PATH...     (bytes, e.g. a key)
  canary_scan.py --self-test

Every regular file under each PATH is read as bytes and searched for each
canary written as:

  plain        UTF-8, case-insensitive
  utf-16le/be  UTF-16 in either byte order, case-insensitive (ASCII letters)
  qp           quoted-printable: soft line breaks (=LF, =CRLF) anywhere
               inside it and any byte written as =XX (either hex case)
  rfc2047      encoded-words (B and Q, any charset) decoded, adjacent words
               joined, so a canary split across words is found
  b64-U-aN     base64 of the canary's bytes in form U (utf8, utf16le,
               utf16be) at byte alignment N (0, 1, 2) of the encoded stream,
               with or without line breaks anywhere (76, 64 or any width);
               all its bits are matched but up to 4 of its first and last byte
  mime         a file that is an RFC 5322 message is also parsed (email
               module): every header decoded, every part's payload decoded
               by its transfer encoding and charset (also UTF-16), every
               file name; the decoded text and bytes are searched again

Prints one line per hit (HIT <TAB> path <TAB> canary <TAB> encoding) unless
--quiet, then one summary line:
  canaries N files N encodings N hits N
Exit status: 0 no hit, 1 hits, 2 usage error or self-test failure.
"""
import base64
import binascii
import email
import email.policy
import os
import quopri
import random
import re
import string
import sys

B64_ALIGNMENTS = (0, 1, 2)
FORMS = (("utf8", "utf-8"), ("utf16le", "utf-16-le"), ("utf16be", "utf-16-be"))
MAX_MIME_BYTES = 64 * 1024 * 1024  # larger files are searched as bytes only
MAX_MIME_PARTS = 10000             # parts walked in one message

ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
# Encoded-words separated only by white space (folding included) form one
# run: RFC 2047 says the white space between them is not displayed.
ENCODED_RUN = re.compile(rb"(?:=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=(?:[ \t]*\r?\n?[ \t]+)?)+")
QP_SOFT_BREAK = re.compile(rb"=\r?\n")
QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]?")


def b64_core(data, align):
    """The base64 characters that depend only on DATA when it starts at
    byte offset ALIGN (0..2) of an encoded stream."""
    enc = base64.b64encode(b"\0" * align + data + b"\0\0").decode("ascii")
    first = -(-8 * align // 6)                  # ceil: first char all in data
    last = (8 * align + 8 * len(data)) // 6     # chars before this are in data
    return enc[first:last]


class Canary:
    """A text canary, or (raw given) a binary one such as a key: that one
    is searched as bytes, quoted-printable and base64 at each alignment."""
    def __init__(self, text, raw=None):
        self.text = text if raw is None else "hex:" + raw.hex()
        self.binary = raw is not None
        if raw is None:
            raw = text.encode("utf-8")
        self.lower = text.casefold() if not self.binary else None
        self.plain = raw.lower()
        self.utf16 = {} if self.binary else {
            "utf-16le": text.lower().encode("utf-16-le"),
            "utf-16be": text.lower().encode("utf-16-be")}
        self.b64 = {}
        for name, codec in FORMS:
            if self.binary and name != "utf8":
                continue
            data = raw if self.binary else text.encode(codec)
            for a in B64_ALIGNMENTS:
                self.b64["b64-%s-a%d" % (name, a)] = b64_core(data, a).encode("ascii")


def encodings_tried():
    names = ["plain", "utf-16le", "utf-16be", "qp", "rfc2047"]
    names += ["b64-%s-a%d" % (n, a) for n, _ in FORMS for a in B64_ALIGNMENTS]
    names.append("mime")
    return names


def qp_view(data):
    """Soft line breaks removed, =XX escapes decoded, lower case."""
    data = QP_SOFT_BREAK.sub(b"", data)
    return QP_ESCAPE.sub(lambda m: binascii.unhexlify(m.group(1)), data).lower()


def b64_view(data):
    """Line breaks (and JSON's escaped slash) removed: base64 wrapped at any
    width becomes one line."""
    return re.sub(rb"\r?\n", b"", data).replace(b"\\/", b"/")


def decode_word(charset, kind, text):
    charset = charset.split(b"*")[0].decode("ascii", "replace")  # RFC 2231 language
    if kind in b"Bb":
        text = text + b"=" * (-len(text) % 4)
        raw = base64.b64decode(text, validate=False)
    else:
        raw = quopri.decodestring(text.replace(b"_", b" "), header=True)
    return charset, raw


def rfc2047_texts(data):
    """The decoded text of each run of adjacent encoded-words."""
    out = []
    for run in ENCODED_RUN.finditer(data):
        parts = []  # [charset, bytes] joined while the charset stays
        for w in ENCODED_WORD.finditer(run.group(0)):
            try:
                cs, raw = decode_word(w.group(1), w.group(2), w.group(3))
            except (ValueError, binascii.Error):
                continue
            if parts and parts[-1][0].lower() == cs.lower():
                parts[-1][1] += raw
            else:
                parts.append([cs, bytearray(raw)])
        text = ""
        for cs, raw in parts:
            try:
                text += bytes(raw).decode(cs, "replace")
            except LookupError:
                text += bytes(raw).decode("utf-8", "replace")
        out.append(text)
    return out


def looks_like_message(data):
    head = data[:4096]
    lines = head.split(b"\n", 3)
    return len(lines) > 1 and all(HEADER_LINE.match(l) or l[:1] in (b" ", b"\t")
                                  for l in lines[:2]) and HEADER_LINE.match(lines[0])


def part_texts(data):
    """Decoded strings of a message: headers, file names, payloads (as text
    in their charset) and the payload bytes."""
    texts, blobs = [], []
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for n, part in enumerate(msg.walk()):
        if n >= MAX_MIME_PARTS:
            break
        for name, value in part.raw_items():
            try:
                texts.append("%s: %s" % (name, str(email.policy.default.header_factory(name, value))))
            except Exception:  # a header the parser cannot read is searched raw
                texts.append("%s: %s" % (name, value))
        fname = part.get_filename()
        if fname:
            texts.append(fname)
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        blobs.append(payload)
        cs = part.get_content_charset() or "utf-8"
        try:
            texts.append(payload.decode(cs, "replace"))
        except LookupError:
            texts.append(payload.decode("utf-8", "replace"))
    return texts, blobs


def scan_bytes(data, canaries, prefix=""):
    """(canary text, encoding) pairs found in DATA."""
    hits = []
    low = data.lower()
    qp = qp_view(data)
    b64 = b64_view(data)
    words = rfc2047_texts(data) if b"=?" in data else []
    for c in canaries:
        if c.plain in low:
            hits.append((c.text, prefix + "plain"))
        for name, pat in c.utf16.items():
            if pat in low:
                hits.append((c.text, prefix + name))
        if c.plain in qp:
            hits.append((c.text, prefix + "qp"))
        if c.lower is not None and any(c.lower in t.casefold() for t in words):
            hits.append((c.text, prefix + "rfc2047"))
        for name, pat in c.b64.items():
            if pat in b64:
                hits.append((c.text, prefix + name))
    return hits


def scan_file_data(data, canaries):
    hits = scan_bytes(data, canaries)
    if len(data) <= MAX_MIME_BYTES and looks_like_message(data):
        try:
            texts, blobs = part_texts(data)
        except Exception:  # not a message after all: its bytes were searched
            texts, blobs = [], []
        folded = [t.casefold() for t in texts]
        for c in canaries:
            if c.lower is not None and any(c.lower in t for t in folded):
                hits.append((c.text, "mime"))
        for blob in blobs:
            hits += scan_bytes(blob, canaries, "mime+")
    # One line per (canary, encoding).
    return sorted(set(hits))


def walk(paths):
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    full = os.path.join(root, f)
                    if os.path.isfile(full) and not os.path.islink(full):
                        yield full
        elif os.path.isfile(p):
            yield p


def scan(paths, canaries, out, quiet):
    nfiles = nhits = 0
    for path in walk(paths):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            print("ERROR\t%s\t%s" % (path, e.strerror), file=sys.stderr)
            continue
        nfiles += 1
        for text, enc in scan_file_data(data, canaries):
            nhits += 1
            if not quiet:
                print("HIT\t%s\t%s\t%s" % (path, text, enc), file=out)
    return nfiles, nhits


# ---- self-test ----------------------------------------------------------------

def rand_word(rng, n=12):
    return "".join(rng.choice(string.ascii_letters) for _ in range(n))


def wrap(text, width):
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def samples(canary, rng):
    """(name, bytes, encodings that must find it)."""
    junk = lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    raw = canary.encode("utf-8")
    s = []
    s.append(("plain", raw, {"plain"}))
    s.append(("plain upper case", canary.upper().encode(), {"plain"}))
    s.append(("utf-16le", canary.encode("utf-16-le"), {"utf-16le"}))
    s.append(("utf-16be", canary.encode("utf-16-be"), {"utf-16be"}))
    esc = "".join("=%02X" % b for b in raw).encode()
    s.append(("qp every byte =XX", esc, {"qp"}))
    s.append(("qp every byte =xx", esc.lower().replace(b"=", b"="), {"qp"}))
    soft = b"=\n".join(raw[i:i + 1] for i in range(len(raw)))
    s.append(("qp soft line break after every byte", soft, {"qp"}))
    soft_crlf = raw[:5] + b"=\r\n" + b"".join(b"=%02X" % b for b in raw[5:])
    s.append(("qp CRLF soft break and escapes", soft_crlf, {"qp"}))
    s.append(("qp by quopri", quopri.encodestring(b"x" * 70 + raw), {"qp"}))
    half = len(raw) // 2
    bw = b"Subject: =?utf-8?B?" + base64.b64encode(raw[:half]) + b"?=\n =?UTF-8?b?" + \
        base64.b64encode(raw[half:]) + b"?="
    s.append(("rfc2047 B split across words", bw, {"rfc2047"}))
    qw = b"Subject: =?iso-8859-1?Q?" + b"".join(b"=%02X" % b for b in raw[:half]) + \
        b"?= =?ISO-8859-1?q?" + raw[half:] + b"?="
    s.append(("rfc2047 Q split across words", qw, {"rfc2047"}))
    u16 = b"=?utf-16?B?" + base64.b64encode(("Dr. " + canary).encode("utf-16")) + b"?="
    s.append(("rfc2047 B in UTF-16", u16, {"rfc2047"}))
    for form, codec in FORMS:
        for a in B64_ALIGNMENTS:
            enc = base64.b64encode(b"p" * a + canary.encode(codec) + b"tail").decode()
            name = "b64-%s-a%d" % (form, a)
            s.append((name, enc.encode(), {name}))
            long = base64.b64encode(b"q" * (60 + a) + canary.encode(codec)).decode()
            s.append((name + " broken every 76", wrap(long, 76).encode(), {name}))
            s.append((name + " broken every 64 CRLF", wrap(long, 64).replace("\n", "\r\n").encode(), {name}))
    j = b'{"raw":"' + base64.b64encode(b"zz" + raw).replace(b"/", b"\\/") + b'"}'
    s.append(("base64 in JSON with escaped slashes", j, {"b64-utf8-a2"}))
    m = ("From: =?utf-8?Q?%s?= <a@b.example>\nTo: x@y.example\nSubject: hi\n"
         "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n\n"
         "--BB\nContent-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n%s\n"
         "--BB\nContent-Type: application/octet-stream\nContent-Disposition: attachment;"
         " filename*=utf-8''%s\nContent-Transfer-Encoding: base64\n\nAAAA\n--BB--\n")
    mime = (m % ("x", wrap(base64.b64encode(("Hallo " + canary).encode("utf-16")).decode(), 76),
                 "".join("%%%02X" % b for b in raw))).encode()
    out = [(n, junk() + d + junk(), want) for n, d, want in s]
    # A message is a message from its first byte: no junk before it.
    out.append(("mime: UTF-16 part in base64 and RFC 2231 file name", mime, {"mime"}))
    return out


def self_test():
    rng = random.Random()
    canary = rand_word(rng)
    other = rand_word(rng)
    cs = [Canary(canary)]
    failures = 0
    tried = set()
    for name, data, want in samples(canary, rng):
        got = {enc for _, enc in scan_file_data(data, cs)}
        tried |= want
        missing = want - got
        if missing:
            failures += 1
            print("not ok - %s: wanted encoding %s, got %s" % (name, sorted(missing), sorted(got)))
        else:
            print("ok - %s found as %s" % (name, ", ".join(sorted(got))))
    # Negative: another canary, a near miss, noise, and the samples of the
    # other canary must not be taken for this one.
    # The near miss differs in a middle letter: base64 at alignments 1 and 2
    # fixes only some bits of the first and last byte, so a change there
    # could still match (with 12 letters that is no false alarm in practice).
    mid = len(canary) // 2
    # (Letters are matched in either case: "A" changed to "a" is no change.)
    near = canary[:mid] + ("a" if canary[mid] not in "aA" else "b") + canary[mid + 1:]
    negatives = [("another canary in every encoding", b"\n".join(d for _, d, _ in samples(other, rng))),
                 ("a canary with a middle letter changed", b"\n".join(d for _, d, _ in samples(near, rng))),
                 ("random bytes", bytes(rng.randrange(256) for _ in range(200000)))]
    for name, data in negatives:
        got = scan_file_data(data, cs)
        if got:
            failures += 1
            print("not ok - negative: %s gave hits %s" % (name, got))
        else:
            print("ok - negative: %s gives no hit" % name)
    # A binary canary (a wrapped key) as raw bytes and in base64.
    key = bytes(rng.randrange(256) for _ in range(72))
    kc = [Canary(None, key)]
    for name, data, want in [("binary raw", b"\0\1" + key + b"\xff", "plain"),
                             ("binary in base64", base64.b64encode(b"x" + key), "b64-utf8-a1")]:
        got = {enc for _, enc in scan_file_data(data, kc)}
        if want in got:
            print("ok - %s found as %s" % (name, ", ".join(sorted(got))))
        else:
            failures += 1
            print("not ok - %s: wanted %s, got %s" % (name, want, sorted(got)))
    other_key = bytes(rng.randrange(256) for _ in range(72))
    if scan_file_data(other_key + base64.b64encode(other_key), kc):
        failures += 1
        print("not ok - negative: another key matched")
    else:
        print("ok - negative: another key gives no hit")
    untested = set(encodings_tried()) - tried
    if untested:
        failures += 1
        print("not ok - encodings without a sample: %s" % sorted(untested))
    print("self-test: %d encodings, %d failures" % (len(encodings_tried()), failures))
    return 2 if failures else 0


def main(argv):
    args = argv[1:]
    quiet = False
    canaries, binaries, paths = [], [], []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--self-test":
            return self_test()
        if a == "--quiet":
            quiet = True
        elif a == "--canary" and i + 1 < len(args):
            i += 1
            canaries.append(args[i])
        elif a == "--canary-hex" and i + 1 < len(args):
            i += 1
            binaries.append(bytes.fromhex(args[i]))
        elif a == "--canaries" and i + 1 < len(args):
            i += 1
            with open(args[i], encoding="utf-8") as f:
                canaries += [l.strip() for l in f if l.strip()]
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            paths.append(a)
        i += 1
    if not (canaries or binaries) or not paths:
        print(__doc__, file=sys.stderr)
        return 2
    cs = [Canary(c) for c in canaries] + [Canary(None, b) for b in binaries]
    nfiles, nhits = scan(paths, cs, sys.stdout, quiet)
    print("canaries %d files %d encodings %d hits %d" % (len(cs), nfiles, len(encodings_tried()), nhits))
    return 1 if nhits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

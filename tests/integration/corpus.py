#!/usr/bin/env python3
"""Runs imi parse trim over the reply-parsing corpora of three peer projects
(github email_reply_parser, zapier email_reply_parser, mailgun talon) and
prints one TAP line per set.  See tests/integration/corpus.sh.

A case counts when it has an expected.txt.  Talon's quotation cases (plain/,
standard-replies/, html/: the peer's function there is extract_from_plain or
extract_from_html, which strips quotations only) run with --quotes-only,
everything else with plain `imi parse trim`.  Talon's signature/ml_* cases
(its machine-learning classifier) and HTML-to-HTML cases are run and
reported, but do not count.  Cases listed in tests/corpus-disputed.txt are
excluded and named.  A set passes when it misses at most 5% of its counted
cases or one case, whichever is more.
"""
import html.parser
import os
import re
import subprocess
import sys
import time

SETS = {"github-email_reply_parser": "github", "zapier-email_reply_parser": "zapier",
        "mailgun-talon": "talon"}


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class HTMLText(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(source):
    p = HTMLText()
    p.feed(source)
    return " ".join(p.parts)


def compare(rule, got, want):
    if rule.startswith("exact"):
        return got == want
    if rule.startswith("strip"):
        return got.strip() == want.strip()
    if "whitespace-insensitive" in rule:
        return re.sub(r"\s", "", got) == re.sub(r"\s", "", want)
    return got == want


def meta(case):
    fields = {}
    for line in read(os.path.join(case, "meta.txt")).splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def run_imi(imi, args, path):
    start = time.monotonic()
    proc = subprocess.run([imi, "parse", "trim"] + args + [path], capture_output=True,
                          timeout=60)
    elapsed = time.monotonic() - start
    out = proc.stdout.decode("utf-8", "replace")
    if out.endswith("\n"):
        out = out[:-1]
    return proc.returncode, out, proc.stderr.decode("utf-8", "replace"), elapsed


def main():
    corpus, imi, disputed_file = sys.argv[1], sys.argv[2], sys.argv[3]
    disputed = {}
    if os.path.exists(disputed_file):
        for line in read(disputed_file).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                disputed[name] = reason.strip()
    results = {name: [0, 0, []] for name in SETS.values()}  # passed, counted, misses
    failed_sets = 0
    used_disputes = set()
    for top in sorted(SETS):
        set_name = SETS[top]
        root = os.path.join(corpus, top)
        for dirpath, dirnames, filenames in sorted(os.walk(root)):
            dirnames.sort()
            if "meta.txt" not in filenames:
                continue
            rel = os.path.relpath(dirpath, corpus)
            short = os.path.relpath(dirpath, root)
            inputs = [f for f in ("input.txt", "input.eml", "input.html") if f in filenames]
            if not inputs:
                continue
            m = meta(dirpath)
            rule = m.get("expected", "")
            quotes_only = top == "mailgun-talon" and short.split(os.sep)[0] in (
                "plain", "standard-replies", "html")
            args = ["--quotes-only"] if quotes_only else []
            counted = not (top == "mailgun-talon" and
                           os.path.basename(dirpath).startswith("ml_"))
            if "expected.txt" in filenames:
                want = read(os.path.join(dirpath, "expected.txt"))
            elif "expected.html" in filenames:
                want = html_text(read(os.path.join(dirpath, "expected.html")))
                rule, counted = "whitespace-insensitive (text of expected.html)", False
            else:
                continue
            rc, got, err, elapsed = run_imi(imi, args, os.path.join(dirpath, inputs[0]))
            ok = rc == 0 and compare(rule, got, want)
            if rel in disputed:
                used_disputes.add(rel)
                print("# disputed %s: %s (%s)" % (rel, "match" if ok else "differs",
                                                   disputed[rel]))
                continue
            if not counted:
                print("# not counted %s: %s" % (rel, "match" if ok else "differs"))
                continue
            results[set_name][1] += 1
            if ok:
                results[set_name][0] += 1
            else:
                results[set_name][2].append(rel)
                print("# miss %s (%s, rc %d%s)" % (rel, " ".join(args) or "full", rc,
                                                   ", " + err.strip() if err.strip() else ""))
                for line in ("want: " + repr(want[:300]), "got:  " + repr(got[:300])):
                    print("#   " + line)
    for name in disputed:
        if name not in used_disputes:
            print("# disputed entry %s names no case with expected output" % name)
    for top in sorted(SETS):
        set_name = SETS[top]
        passed, counted, misses = results[set_name]
        allowed = max(1.0, 0.05 * counted)
        rate = 100.0 * passed / counted if counted else 0.0
        good = counted > 0 and len(misses) <= allowed
        failed_sets += not good
        print("%s - corpus %s: %d/%d (%.1f%%)" % ("ok" if good else "not ok", set_name,
                                                  passed, counted, rate))
    # The github performance cases: each within its 1 s limit.
    for case in ("pathological", "email_long_quote"):
        path = os.path.join(corpus, "github-email_reply_parser", case, "input.txt")
        if not os.path.exists(path):
            continue
        rc, _, _, elapsed = run_imi(imi, [], path)
        good = rc == 0 and elapsed < 1.0
        failed_sets += not good
        print("%s - corpus github %s trimmed in %.3f s (limit 1 s)" % (
            "ok" if good else "not ok", case, elapsed))
    return 1 if failed_sets else 0


if __name__ == "__main__":
    sys.exit(main())

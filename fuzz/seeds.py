#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from the project's test
inputs and the reply corpora of peer projects (../shared/corpora, see
fuzz/corpus/README.md for their sources and licences).

    fuzz/seeds.py [CORPORA_DIR]

Each seed is named after where it came from; inputs larger than
SEED_MAX_BYTES are left out (libFuzzer's -max_len would cut them anyway).
The token seeds (fuzz/corpus/token/) are written by hand: their MACs were
made with token_address and the key in fuzz/fuzz_token.c, and are kept as
they are.  Run from the top of the source tree; existing seeds of the
other targets are replaced.
"""
import email
import email.policy
import os
import shutil
import sys

SEED_MAX_BYTES = 64 * 1024
LANGS = ["bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
         "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"]


def files(top, names):
    for d, _, fs in sorted(os.walk(top)):
        for f in sorted(fs):
            if f in names or any(f.endswith(n) for n in names if n.startswith(".")):
                p = os.path.join(d, f)
                if os.path.getsize(p) <= SEED_MAX_BYTES:
                    yield p


def name_of(path, top):
    return os.path.relpath(path, top).replace("/", "__")


def text_of(raw):
    """The first text/plain part, decoded, or the raw bytes."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is not None:
            return part.get_content().encode("utf-8")
    except Exception:
        pass
    return raw


def main():
    corpora = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpora"
    replies = os.path.join(corpora, "replies")
    out = "fuzz/corpus"
    seeds = {t: {} for t in ("mime", "trim", "answers", "template")}

    emls = [(p, "tests") for p in files("tests", [".eml"])]
    emls += [(p, replies) for p in files(replies, ["input.eml"])]
    texts = [(p, replies) for p in files(replies, ["input.txt"])]
    htmls = [(p, replies) for p in files(replies, ["input.html"])]

    for p, top in emls + htmls + texts[:20]:
        seeds["mime"][name_of(p, top)] = open(p, "rb").read()
    for i, (p, top) in enumerate(texts):
        raw = open(p, "rb").read()
        # Full mode, quotes-only mode and marked quotes, in turn.
        seeds["trim"][name_of(p, top)] = bytes([(0, 1, 2, 3)[i % 4]]) + raw
    for p, top in htmls:
        seeds["trim"][name_of(p, top)] = b"\x04" + open(p, "rb").read()
    for i, (p, top) in enumerate(emls):
        seeds["trim"][name_of(p, top)] = bytes([4 | (i % 2)]) + open(p, "rb").read()
    for i, (p, top) in enumerate(p for p in emls if p[1] == "tests"):
        body = text_of(open(p, "rb").read())
        # Set pq-general (0) or sd-general (2); language by turn; the
        # text trimmed as imi deliver trims it.
        lang = i % 25
        seeds["answers"][name_of(p, top)] = bytes([(lang << 2) | (0, 2)[i % 2], 0]) + body
    for i, (p, top) in enumerate(texts[:15]):
        seeds["answers"][name_of(p, top)] = bytes([i * 4 % 256, 1]) + open(p, "rb").read()

    for p in files("templates/sets", [".ini"]):
        seeds["template"]["set__" + os.path.basename(p)] = b"\x00" + open(p, "rb").read()
    for p in files("tests/fixtures/sets", [".ini"]):
        seeds["template"]["fixture-set__" + os.path.basename(p)] = b"\x00" + open(p, "rb").read()
    for p in files("templates/catalogs", [".ini"]):
        lang = os.path.basename(p)[:-4]
        seeds["template"]["catalog__" + lang] = bytes([LANGS.index(lang) << 1 | 1]) + open(p, "rb").read()

    for target, items in seeds.items():
        d = os.path.join(out, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in items.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(items)} seeds")


if __name__ == "__main__":
    main()

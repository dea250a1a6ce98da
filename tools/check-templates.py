#!/usr/bin/env python3
"""Verify the question sets and message catalogs under templates/.

    tools/check-templates.py [TEMPLATES_DIR]      (default: templates/ beside tools/)

What it checks (the formats are those of the project's templates format document):
  question sets  templates/sets/*.ini
    - [Set] has Id (= file name), Version, Kind (request|alert), Area, Questions
    - Title, every question's Text, any Help and every choice label exist in all
      24 official EU languages (English is the unlocalized key), non-empty
    - Questions names existing question groups; no group is left unreferenced
    - Type is one of yesno|choice|date|text|attachment|check; Required and
      Personal are true|false; choice questions list Choices and label each one;
      only choice questions carry Choices; check questions only in alert sets,
      and every alert set has at least one
  message catalogs  templates/catalogs/<lang>.ini
    - one file for each of the 24 languages, [Catalog] Language = file name
    - every [Messages] key of the fixed list is in en.ini; every en.ini key is in
      every catalog and no catalog has keys en.ini lacks
    - each message uses the same placeholders %{name} as en.ini
    - request.instructions names 'Q1:' and 'Q2:'
    - [Words]: yes, no, wrote, original-message, from (four Outlook field
      names); yes/no words lower case; no word is yes in one language and no in
      another (replies are read in any language)
  every file: valid UTF-8, no duplicate keys, no unknown language suffix.

The GKeyFile line format is parsed here directly (configparser does not
understand localized keys such as Text[fr]).  Prints a summary; exits 1 on
any problem, 2 if the directory cannot be read.
"""

import os
import re
import sys

LANGS = ("bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv").split()

MESSAGE_KEYS = """
request.subject request.intro request.instructions request.answer-here request.deadline
request.action.accept request.action.withdraw request.action.forward request.footer
confirm.subject confirm.understood confirm.missing confirm.invalid confirm.fix
error.subject error.unknown-case error.not-party error.wrong-role error.closed-case
error.unparseable error.token-expired error.needs-confirmation
reminder.subject reminder.not-accepted reminder.not-answered reminder.answer-not-accepted
urgency.subject urgency.intro
alert.subject alert.intro alert.checklist-missing alert.approval-request alert.approved
alert.rejected alert.broadcast-intro alert.rectified alert.withdrawn alert.flagged
alert.close-reminder alert.closed alert.commission-copy
digest.subject digest.intro digest.new digest.rectified digest.flagged digest.withdrawn
digest.closed digest.awaiting
deletion.subject deletion.notice-before deletion.done deletion.early-request
help.subject help.body status.subject status.body
bounce.subject bounce.notice held.subject held.notice held.notice-unnamed
state.sent state.accepted state.forwarded state.answered state.answer-accepted state.closed
state.withdrawn state.deletion-requested
reason.wrong-state reason.other-party reason.role-needed reason.unknown-forward reason.no-answer
reason.no-answer-understood reason.not-closed
deletion.early-offer urgency.line
""".split()

WORD_KEYS = ("yes", "no", "wrote", "original-message", "from")
TYPES = ("yesno", "choice", "date", "text", "attachment", "check")
KINDS = ("request", "alert")

MAX_LINES = 20000          # bound on lines read from one file
MAX_QUESTIONS = 64         # bound on questions in one set
MAX_CHOICES = 64           # bound on choices of one question

KEY_RE = re.compile(r"^([A-Za-z0-9._-]+)(?:\[([A-Za-z_@.-]+)\])?$")
PLACEHOLDER_RE = re.compile(r"%\{([a-z][a-z0-9_-]*)\}")
ID_RE = re.compile(r"^[a-z0-9-]+$")


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, what):
        self.items.append("%s: %s" % (where, what))


def unescape(value):
    """GKeyFile string escapes: \\s \\n \\t \\r \\\\."""
    out = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            n = value[i + 1]
            out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(n, "\\" + n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_keyfile(path, problems):
    """Returns {group: {(key, locale or None): value}} keeping group order."""
    name = os.path.relpath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        problems.add(name, "cannot read: %s" % e)
        return {}
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        problems.add(name, "not valid UTF-8 at byte %d" % e.start)
        return {}
    groups = {}
    current = None
    lines = text.split("\n")
    if len(lines) > MAX_LINES:
        problems.add(name, "more than %d lines" % MAX_LINES)
        lines = lines[:MAX_LINES]
    for lineno, line in enumerate(lines, 1):
        where = "%s:%d" % (name, lineno)
        if line.endswith("\r"):
            problems.add(where, "CR line ending")
            line = line[:-1]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                problems.add(where, "malformed group header")
                continue
            current = stripped[1:-1]
            if current in groups:
                problems.add(where, "group [%s] appears twice" % current)
            groups.setdefault(current, {})
            continue
        if current is None:
            problems.add(where, "key outside any group")
            continue
        if "=" not in line:
            problems.add(where, "line is neither group, key=value nor comment")
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        m = KEY_RE.match(key)
        if not m:
            problems.add(where, "malformed key %r" % key)
            continue
        k, loc = m.group(1), m.group(2)
        if loc is not None and loc not in LANGS:
            problems.add(where, "unknown language %r in key %r" % (loc, key))
        if (k, loc) in groups[current]:
            problems.add(where, "duplicate key %r in [%s]" % (key, current))
        if value != value.lstrip():
            problems.add(where, "value of %r starts with blank space" % key)
        groups[current][(k, loc)] = unescape(value.strip())
    return groups


def check_localized(group, key, where, problems, required=True):
    """All 24 languages of a localized key: key (en) plus key[xx] for the others."""
    has_any = any(k == key for (k, _loc) in group)
    if not has_any:
        if required:
            problems.add(where, "missing %s" % key)
        return 0
    missing = []
    for lang in LANGS:
        loc = None if lang == "en" else lang
        v = group.get((key, loc))
        if v is None and lang == "en":
            v = group.get((key, "en"))
        if v is None or not v.strip():
            missing.append(lang)
    if missing:
        problems.add(where, "%s lacks languages: %s" % (key, " ".join(missing)))
    en = group.get((key, None), "")
    for lang in LANGS:
        if lang == "en":
            continue
        if len(en) > 24 and group.get((key, lang)) == en:
            problems.add(where, "%s[%s] is the untranslated English text" % (key, lang))
        v = group.get((key, lang), "")
        if "%{" in v or "%{" in en:
            problems.add(where, "%s: placeholders are not used in question sets" % key)
            break
    return 24 - len(missing)


def check_bool(group, key, where, problems):
    v = group.get((key, None))
    if v not in ("true", "false"):
        problems.add(where, "%s must be true or false (is %r)" % (key, v))


def check_set(path, problems, stats):
    name = os.path.relpath(path)
    groups = parse_keyfile(path, problems)
    if not groups:
        return
    s = groups.get("Set")
    if s is None:
        problems.add(name, "no [Set] group")
        return
    set_id = s.get(("Id", None))
    base = os.path.basename(path)[:-4]
    if set_id is None or not ID_RE.match(set_id):
        problems.add(name, "[Set] Id missing or not [a-z0-9-]: %r" % set_id)
    elif set_id != base:
        problems.add(name, "[Set] Id %r differs from the file name %r" % (set_id, base))
    if not (s.get(("Version", None)) or "").isdigit():
        problems.add(name, "[Set] Version must be a number")
    kind = s.get(("Kind", None))
    if kind not in KINDS:
        problems.add(name, "[Set] Kind must be request or alert (is %r)" % kind)
    if not ID_RE.match(s.get(("Area", None)) or ""):
        problems.add(name, "[Set] Area missing or not [a-z0-9-]")
    stats["strings"] += check_localized(s, "Title", name + " [Set]", problems)
    qlist = [q.strip() for q in (s.get(("Questions", None)) or "").split(";") if q.strip()]
    if not qlist:
        problems.add(name, "[Set] Questions is empty")
    if len(qlist) > MAX_QUESTIONS:
        problems.add(name, "more than %d questions" % MAX_QUESTIONS)
        qlist = qlist[:MAX_QUESTIONS]
    if len(set(qlist)) != len(qlist):
        problems.add(name, "[Set] Questions names a question twice")
    for g in groups:
        if g != "Set" and g not in qlist:
            problems.add(name, "group [%s] is not listed in Questions" % g)
    checks = 0
    for q in qlist:
        where = "%s [%s]" % (name, q)
        g = groups.get(q)
        if g is None:
            problems.add(name, "Questions names [%s], which does not exist" % q)
            continue
        qtype = g.get(("Type", None))
        if qtype not in TYPES:
            problems.add(where, "Type must be one of %s (is %r)" % ("|".join(TYPES), qtype))
        check_bool(g, "Required", where, problems)
        check_bool(g, "Personal", where, problems)
        stats["strings"] += check_localized(g, "Text", where, problems)
        stats["strings"] += check_localized(g, "Help", where, problems, required=False)
        choices = [c.strip() for c in (g.get(("Choices", None)) or "").split(";") if c.strip()]
        if qtype == "choice":
            if len(choices) < 2:
                problems.add(where, "a choice question needs at least two Choices")
            if len(choices) > MAX_CHOICES:
                problems.add(where, "more than %d choices" % MAX_CHOICES)
                choices = choices[:MAX_CHOICES]
            if len(set(choices)) != len(choices):
                problems.add(where, "a choice code appears twice")
            for c in choices:
                if not ID_RE.match(c):
                    problems.add(where, "choice code %r is not [a-z0-9-]" % c)
                stats["strings"] += check_localized(g, "Choice-" + c, where, problems)
        elif choices:
            problems.add(where, "Choices given for a %s question" % qtype)
        for (k, _loc) in g:
            if k.startswith("Choice-") and k[len("Choice-"):] not in choices:
                problems.add(where, "label %s for a choice not in Choices" % k)
            if k not in ("Type", "Required", "Personal", "Text", "Help", "Choices") \
                    and not k.startswith("Choice-"):
                problems.add(where, "unknown key %s" % k)
        if qtype == "check":
            checks += 1
            if g.get(("Required", None)) != "true":
                problems.add(where, "a check-list criterion must be Required=true")
    if kind == "alert" and checks == 0:
        problems.add(name, "an alert set needs check-list criteria (Type=check)")
    if kind == "request" and checks:
        problems.add(name, "check-list criteria only belong in alert sets")
    stats["sets"] += 1
    stats["questions"] += len(qlist)


def placeholders(text):
    return sorted(set(PLACEHOLDER_RE.findall(text)))


def word_list(value):
    return [w.strip() for w in value.split(";") if w.strip()]


def check_catalogs(cdir, problems, stats):
    catalogs = {}
    for lang in LANGS:
        path = os.path.join(cdir, lang + ".ini")
        if not os.path.exists(path):
            problems.add(os.path.relpath(path), "catalog missing")
            continue
        catalogs[lang] = parse_keyfile(path, problems)
    for f in sorted(os.listdir(cdir)):
        if f.endswith(".ini") and f[:-4] not in LANGS:
            problems.add(os.path.join(os.path.relpath(cdir), f), "not one of the 24 languages")
    en = catalogs.get("en")
    if not en:
        problems.add(os.path.relpath(cdir), "no usable en.ini: cannot compare catalogs")
        return
    en_msgs = en.get("Messages", {})
    for k in MESSAGE_KEYS:
        if (k, None) not in en_msgs:
            problems.add("en.ini", "fixed message key %s missing" % k)
    yes_of = {}
    no_of = {}
    for lang, groups in catalogs.items():
        name = lang + ".ini"
        cat = groups.get("Catalog", {})
        if cat.get(("Language", None)) != lang:
            problems.add(name, "[Catalog] Language must be %r" % lang)
        if not cat.get(("LanguageName", None)):
            problems.add(name, "[Catalog] LanguageName missing")
        msgs = groups.get("Messages", {})
        for (k, loc) in msgs:
            if loc is not None:
                problems.add(name, "localized key %s[%s] in a catalog" % (k, loc))
            if (k, None) not in en_msgs:
                problems.add(name, "key %s is not in en.ini" % k)
        for (k, _loc), en_text in en_msgs.items():
            v = msgs.get((k, None))
            if v is None or not v.strip():
                problems.add(name, "message %s missing" % k)
                continue
            stats["messages"] += 1
            if placeholders(v) != placeholders(en_text):
                problems.add(name, "%s placeholders %s, en.ini has %s"
                             % (k, placeholders(v), placeholders(en_text)))
            stray = re.sub(PLACEHOLDER_RE, "", v)
            if "%{" in stray:
                problems.add(name, "%s has a malformed placeholder" % k)
            if lang != "en" and len(v) > 24 and v == en_text:
                problems.add(name, "%s is the untranslated English text" % k)
        instr = msgs.get(("request.instructions", None), "")
        if "Q1:" not in instr or "Q2:" not in instr:
            problems.add(name, "request.instructions must show 'Q1:' and 'Q2:'")
        words = groups.get("Words", {})
        for k in WORD_KEYS:
            if not (words.get((k, None)) or "").strip():
                problems.add(name, "[Words] %s missing" % k)
        yes = word_list(words.get(("yes", None), ""))
        no = word_list(words.get(("no", None), ""))
        for w in yes + no:
            if w != w.lower():
                problems.add(name, "yes/no word %r is not lower case" % w)
        for w in set(yes) & set(no):
            problems.add(name, "%r is both a yes and a no word" % w)
        for w in yes:
            yes_of.setdefault(w.lower(), []).append(lang)
        for w in no:
            no_of.setdefault(w.lower(), []).append(lang)
        fields = word_list(words.get(("from", None), ""))
        if len(fields) != 4:
            problems.add(name, "[Words] from must name 4 fields (From;Sent;To;Subject), has %d"
                         % len(fields))
        stats["catalogs"] += 1
    for w in sorted(set(yes_of) & set(no_of)):
        problems.add("catalogs", "%r is yes in %s but no in %s"
                     % (w, ",".join(yes_of[w]), ",".join(no_of[w])))


def main(argv):
    top = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "templates")
    sdir = os.path.join(top, "sets")
    cdir = os.path.join(top, "catalogs")
    if not os.path.isdir(sdir) or not os.path.isdir(cdir):
        print("check-templates: %s must contain sets/ and catalogs/" % top, file=sys.stderr)
        return 2
    problems = Problems()
    stats = {"sets": 0, "questions": 0, "strings": 0, "catalogs": 0, "messages": 0}
    set_files = sorted(f for f in os.listdir(sdir) if f.endswith(".ini"))
    if not set_files:
        problems.add(os.path.relpath(sdir), "no question sets")
    for f in set_files:
        check_set(os.path.join(sdir, f), problems, stats)
    check_catalogs(cdir, problems, stats)
    for p in problems.items:
        print("problem: " + p)
    print("%d question sets, %d questions, %d localized set strings; "
          "%d catalogs, %d messages; %d problems"
          % (stats["sets"], stats["questions"], stats["strings"], stats["catalogs"],
             stats["messages"], len(problems.items)))
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

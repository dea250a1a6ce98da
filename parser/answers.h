/*
 * answers: the answers in a reply, read against the case's question set.
 *
 * What it does: takes the new text of a reply (already trimmed of quoted
 * history and signature) and, optionally, the full text, and finds:
 *   - answers by code, at the start of a line: "Q3: yes", "Q3 - yes",
 *     "Q3 yes", "q3) yes", "3) no", "3. no", "3: no" (a bare number n means
 *     the question Qn, else the n-th question);
 *   - answers written under the question as it was rendered (interleaved
 *     replies): a quoted line "> Q2. Is the provider registered? (yes / no)"
 *     (or the quoted question text alone, in any language of the set, even
 *     cut by wrapping), then the unquoted lines below it, up to the next
 *     quoted line;
 *   - answers typed into history that carries no quote marks (Outlook's
 *     inline replies): after the unquoted "Q2. ..." line, what follows its
 *     "Q2:" line, up to the next blank line;
 * The request's own lines under a question (its choice list, its help)
 * are never taken for an answer.  Any answer ends at a rule of ten or more
 * '-', '_' or '=' (the request's footer rule), at the start of quoted
 * history in any language (the catalogs' [Words]: "On ... wrote:",
 * "-----Original Message-----", a header-block line "From: a@b") and at a
 * signature delimiter "-- ", so text that a trimmer left in does not end
 * up in a free-text answer.
 * and normalizes each by the question's type: yes/no in any of the 24
 * languages (the catalogs' [Words]), choices by code or by their label in
 * any language of the set (case- and accent-insensitive), dates in common
 * forms (dates.h) to YYYY-MM-DD, free text verbatim (several lines, up to
 * the next question).
 *
 * The new text is read first; the full text adds only answers found under
 * questions (quoted or not) that the new text lacks, never answers by code
 * alone (those in the history may be old).  A trimmer may keep or drop
 * interleaved answers; both work.
 *
 * Results: per answer the code, the raw text, the normalized value (NULL if
 * not understood) and its problems; overall problems add every required
 * question left unanswered.  Problem kinds: "missing", "not-understood",
 * "ambiguous" (a value that fits several choices, or both yes and no),
 * "conflict" (one question answered twice differently; the first counts),
 * "unknown-question" (a code the set does not have).
 *
 * How it fails: IMI_TOOBIG over the bounds below; otherwise it always
 * produces a result (an empty reply gives only "missing" problems).
 *
 * What it trusts: nothing in the reply.  It never evaluates the text beyond
 * matching it; the raw answer is kept as written (valid UTF-8 ensured).
 */
#ifndef IMI_ANSWERS_H
#define IMI_ANSWERS_H

#include <json-glib/json-glib.h>

#include "templates/catalog.h"
#include "templates/qset.h"
#include "util/util.h"

#define ANSWERS_MAX_TEXT_BYTES (1024 * 1024) /* each of new and full text */
#define ANSWERS_MAX_LINES 20000
#define ANSWERS_MAX_ANSWER_BYTES (64 * 1024) /* one answer's raw text */

struct answers_input {
	const struct qset *qset;
	const struct catalog *catalog; /* [Words] of every language loaded */
	const char *new_text;          /* trimmed new text of the reply (UTF-8) */
	const char *full_text;         /* whole body, or NULL */
	const char *language;          /* the replier's language: settles clashes; may be NULL */
	unsigned attachments;          /* attachments in the reply: an attachment
					* question counts as answered if any */
};

/* Read-only results. */
struct answer_problem {
	char *code;    /* question code, NULL for the reply as a whole */
	char *kind;    /* "missing", "not-understood", ... */
	char *detail;  /* English text for operators and logs */
};

struct answer {
	const struct qset_question *question;
	char *raw;            /* as written, trimmed of blank lines around */
	char *value;          /* normalized; NULL when not understood */
	int under_quote;      /* found under the question as rendered (else by code) */
	GPtrArray *problems;  /* struct answer_problem * of this answer */
};

struct answers;

int answers_extract(const struct answers_input *in, struct answers **answers_r,
		    char **error_r);
void answers_free(struct answers **answers);

/* Answers in the order of the set's questions. */
unsigned answers_count(const struct answers *answers);
const struct answer *answers_get(const struct answers *answers, unsigned i);
const struct answer *answers_find(const struct answers *answers,
				  const char *code);
/* Every problem: those of the answers and those of the reply. */
unsigned answers_problem_count(const struct answers *answers);
const struct answer_problem *answers_problem(const struct answers *answers,
					     unsigned i);

/* {"qset":ID,"complete":bool,"answers":[{"code","type","raw","value",
 *  "under_quote","problems":[{"kind","detail"}]}],"missing":[codes],
 *  "problems":[{"code","kind","detail"}]}; caller unrefs. */
JsonNode *answers_to_json(const struct answers *answers);

#endif

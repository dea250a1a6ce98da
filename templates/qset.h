/*
 * qset: question sets, the pre-translated forms that requests and alerts are
 * built from (one GKeyFile per set, format in docs/templates.md).
 *
 * What it does: loads a set from a file or from its source text (the store
 * keeps the text, so a case always reads the version it was sent with),
 * validates all of it at load time, and answers questions about it: the
 * questions in order, their type, whether they are required or personal, the
 * stable choice codes and every localized text.  Localized texts are looked
 * up by two-letter language code; a language the set does not translate
 * falls back to English (the untranslated key).
 *
 * How it fails: anything malformed refuses the whole set (IMI_INVALID) with
 * one error text naming the file, the group and the key, e.g.
 * "pq-general.ini: [Q3] Type: unknown type 'yes-no' (known: ...)".  A set
 * over the size bounds below is IMI_TOOBIG.  A loaded set is immutable, so it
 * can be shared between threads.
 *
 * What it trusts: nothing in the file; sets come from the operator, but a
 * stored set is reloaded through the same checks.
 */
#ifndef IMI_QSET_H
#define IMI_QSET_H

#include <stddef.h>

#include "util/util.h"

/* Bounds on a set's source. */
#define QSET_MAX_SOURCE_BYTES (512 * 1024)
#define QSET_MAX_QUESTIONS 200
#define QSET_MAX_CHOICES 50
#define QSET_MAX_CODE_LEN 32

enum qset_kind {
	QSET_KIND_REQUEST, /* information request: questions to answer */
	QSET_KIND_ALERT,   /* alert form: fields and check-list criteria */
};

enum qset_type {
	QSET_YESNO,      /* yes or no */
	QSET_CHOICE,     /* one of the set's choice codes */
	QSET_DATE,       /* a calendar date, normalized to YYYY-MM-DD */
	QSET_TEXT,       /* free text, kept verbatim */
	QSET_ATTACHMENT, /* a document sent as an attachment */
	QSET_CHECK,      /* a criterion the sender of an alert must tick */
};

struct qset;
struct qset_question;

/* Loads and validates.  `name` is how errors call the source (a file name,
 * or "store:ID"); NULL means "qset". */
int qset_load_file(const char *path, struct qset **qset_r, char **error_r);
int qset_load_data(const char *source, size_t len, const char *name,
		   struct qset **qset_r, char **error_r);
void qset_free(struct qset **qset);
/* One more holder of a loaded set (sets are read-only once loaded); each
 * holder calls qset_free. */
struct qset *qset_ref(struct qset *qset);

/* The [Set] group. */
const char *qset_id(const struct qset *qset);
int qset_version(const struct qset *qset);
enum qset_kind qset_kind(const struct qset *qset);
const char *qset_area(const struct qset *qset);
/* Localized title; English when `lang` is NULL or not translated. */
const char *qset_title(const struct qset *qset, const char *lang);
/* The source text the set was loaded from (for the store). */
const char *qset_source(const struct qset *qset, size_t *len_r);

/* Questions, in the order of Questions=. */
unsigned qset_count(const struct qset *qset);
const struct qset_question *qset_question(const struct qset *qset,
					  unsigned index);
/* By code, case-insensitively ("q3" finds Q3); NULL if none. */
const struct qset_question *qset_find(const struct qset *qset,
				      const char *code);

const char *qset_question_code(const struct qset_question *q);
unsigned qset_question_index(const struct qset_question *q);
enum qset_type qset_question_type(const struct qset_question *q);
int qset_question_required(const struct qset_question *q);
int qset_question_personal(const struct qset_question *q);
const char *qset_question_text(const struct qset_question *q,
			       const char *lang);
/* NULL when the question has no Help. */
const char *qset_question_help(const struct qset_question *q,
			       const char *lang);
/* Choices (Type=choice only; 0 for other types). */
unsigned qset_choice_count(const struct qset_question *q);
const char *qset_choice_code(const struct qset_question *q, unsigned index);
const char *qset_choice_label(const struct qset_question *q, unsigned index,
			      const char *lang);

/* "yesno", "choice", ... */
const char *qset_type_name(enum qset_type type);
const char *qset_kind_name(enum qset_kind kind);

/* Translation coverage: appends one line per localized key that lacks a
 * translation into one of the 24 languages ("[Q1] Text: no fr") and returns
 * the number of such gaps.  Not an error at load time: English stands in. */
unsigned qset_check_translations(const struct qset *qset, GString *report);

#endif

/*
 * answers.c: answers by code and under quoted questions, normalized by type.
 *
 * Phases: the question set's texts, choice labels and the catalogs' yes/no
 * words are folded once (extractor_init); each text is scanned line by line
 * into candidate answers per question (scan); the first candidate of each
 * question is normalized by its type and later differing ones are
 * conflicts (answers_build); unanswered required questions are reported.
 */
#include "parser/answers.h"

#include <string.h>

#include "parser/dates.h"
#include "templates/lang.h"

#define ANSWERS_MIN_WRAPPED_TEXT 12 /* a wrapped question line this long still matches */
#define ANSWERS_MAX_NUMBER_CODE 999

struct candidate {
	char *raw;
	int under_quote;
};

struct extractor {
	const struct answers_input *in;
	unsigned n;                 /* questions */
	GPtrArray **texts;          /* per question: folded question texts */
	GPtrArray ***choices;       /* per question, per choice: folded names */
	GPtrArray *yes[LANG_COUNT]; /* folded yes words (borrowed) */
	GPtrArray *no[LANG_COUNT];
	GPtrArray *wrote;           /* folded quote-header verbs, all languages (borrowed) */
	GPtrArray *from;            /* folded header-block field names (borrowed) */
	GPtrArray *original;        /* folded "Original Message" texts (borrowed) */
	GPtrArray **found;          /* per question: struct candidate * */
	GPtrArray *problems;        /* reply-level problems (owned) */
};

struct answers {
	const struct qset *qset;
	GPtrArray *answers;   /* struct answer *, in question order */
	GPtrArray *problems;  /* every struct answer_problem * (owns them) */
	GPtrArray *missing;   /* codes (borrowed from the set) */
};

static void problem_free(gpointer p)
{
	struct answer_problem *pr = p;

	g_free(pr->code);
	g_free(pr->kind);
	g_free(pr->detail);
	g_free(pr);
}

static struct answer_problem *problem_new(const char *code, const char *kind,
					  const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static struct answer_problem *problem_new(const char *code, const char *kind,
					  const char *fmt, ...)
{
	struct answer_problem *p = g_new0(struct answer_problem, 1);
	va_list ap;

	p->code = g_strdup(code);
	p->kind = g_strdup(kind);
	va_start(ap, fmt);
	p->detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return p;
}

static void candidate_free(gpointer p)
{
	struct candidate *c = p;

	g_free(c->raw);
	g_free(c);
}

/* Folded text without the trailing hint "(yes / no)", punctuation and
 * spaces, with runs of white space made one space. */
static char *fold_question(const char *text)
{
	char *f = lang_fold(text), *p;
	GString *out = g_string_new(NULL);
	size_t n;

	for (p = f; *p != '\0'; p++) {
		if (g_ascii_isspace(*p)) {
			if (out->len > 0 && out->str[out->len - 1] != ' ')
				g_string_append_c(out, ' ');
		} else {
			g_string_append_c(out, *p);
		}
	}
	g_free(f);
	n = out->len;
	if (n > 0 && out->str[n - 1] == ')') {
		char *open = strrchr(out->str, '(');
		if (open != NULL)
			g_string_truncate(out, (gsize)(open - out->str));
	}
	while (out->len > 0 && strchr(" ?:.!;,\xC2\xA0", out->str[out->len - 1]) != NULL)
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/* Folded question texts and choice labels, by their text.  A set's texts
 * are the same from one reply to the next, and folding them in the 24
 * languages was most of the work of reading a reply (docs/performance.md).
 * Keyed by the text itself, not by the set, so a changed set never reads a
 * stale entry; bounded; shared by threads under a lock. */
#define ANSWERS_FOLD_CACHE_MAX 50000
static GMutex fold_cache_lock;
static GHashTable *fold_cache;

static char *fold_question_cached(const char *text)
{
	char *folded;

	if (text == NULL)
		return fold_question(text);
	g_mutex_lock(&fold_cache_lock);
	if (fold_cache == NULL)
		fold_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	folded = g_hash_table_lookup(fold_cache, text);
	if (folded != NULL) {
		folded = g_strdup(folded);
		g_mutex_unlock(&fold_cache_lock);
		return folded;
	}
	g_mutex_unlock(&fold_cache_lock);
	folded = fold_question(text);
	g_mutex_lock(&fold_cache_lock);
	if (g_hash_table_size(fold_cache) < ANSWERS_FOLD_CACHE_MAX &&
	    !g_hash_table_contains(fold_cache, text))
		g_hash_table_insert(fold_cache, g_strdup(text), g_strdup(folded));
	g_mutex_unlock(&fold_cache_lock);
	return folded;
}

static void add_unique(GPtrArray *list, char *s)
{
	for (unsigned i = 0; i < list->len; i++)
		if (strcmp(list->pdata[i], s) == 0) {
			g_free(s);
			return;
		}
	if (*s == '\0') {
		g_free(s);
		return;
	}
	g_ptr_array_add(list, s);
}

static void extractor_init(struct extractor *x, const struct answers_input *in)
{
	const struct qset *qset = in->qset;

	memset(x, 0, sizeof(*x));
	x->in = in;
	x->n = qset_count(qset);
	x->texts = g_new0(GPtrArray *, x->n);
	x->choices = g_new0(GPtrArray **, x->n);
	x->found = g_new0(GPtrArray *, x->n);
	x->problems = g_ptr_array_new_with_free_func(problem_free);
	for (unsigned i = 0; i < x->n; i++) {
		const struct qset_question *q = qset_question(qset, i);
		unsigned nc = qset_choice_count(q);

		x->found[i] = g_ptr_array_new_with_free_func(candidate_free);
		x->texts[i] = g_ptr_array_new_with_free_func(g_free);
		for (int l = 0; l < LANG_COUNT; l++)
			add_unique(x->texts[i],
				   fold_question_cached(qset_question_text(q, lang_codes[l])));
		x->choices[i] = g_new0(GPtrArray *, nc + 1);
		for (unsigned c = 0; c < nc; c++) {
			x->choices[i][c] = g_ptr_array_new_with_free_func(g_free);
			add_unique(x->choices[i][c], lang_fold(qset_choice_code(q, c)));
			for (int l = 0; l < LANG_COUNT; l++)
				add_unique(x->choices[i][c],
					   fold_question_cached(qset_choice_label(q, c, lang_codes[l])));
		}
	}
	x->wrote = g_ptr_array_new();
	x->from = g_ptr_array_new();
	x->original = g_ptr_array_new();
	for (int l = 0; l < LANG_COUNT; l++) {
		const char *const *w;

		if (in->catalog != NULL) {
			for (w = catalog_words(in->catalog, lang_codes[l], "wrote"); *w != NULL; w++)
				g_ptr_array_add(x->wrote, (gpointer)*w);
			for (w = catalog_words(in->catalog, lang_codes[l], "from"); *w != NULL; w++)
				g_ptr_array_add(x->from, (gpointer)*w);
			for (w = catalog_words(in->catalog, lang_codes[l], "original-message");
			     *w != NULL; w++)
				g_ptr_array_add(x->original, (gpointer)*w);
		}
		x->yes[l] = g_ptr_array_new();
		x->no[l] = g_ptr_array_new();
		if (in->catalog == NULL)
			continue;
		for (w = catalog_words(in->catalog, lang_codes[l], "yes"); *w != NULL; w++)
			g_ptr_array_add(x->yes[l], (gpointer)*w);
		for (w = catalog_words(in->catalog, lang_codes[l], "no"); *w != NULL; w++)
			g_ptr_array_add(x->no[l], (gpointer)*w);
	}
}

static void extractor_clear(struct extractor *x)
{
	for (unsigned i = 0; i < x->n; i++) {
		const struct qset_question *q = qset_question(x->in->qset, i);

		g_ptr_array_free(x->texts[i], TRUE);
		g_ptr_array_free(x->found[i], TRUE);
		for (unsigned c = 0; c < qset_choice_count(q); c++)
			g_ptr_array_free(x->choices[i][c], TRUE);
		g_free(x->choices[i]);
	}
	g_free(x->texts);
	g_free(x->choices);
	g_free(x->found);
	for (int l = 0; l < LANG_COUNT; l++) {
		g_ptr_array_free(x->yes[l], TRUE);
		g_ptr_array_free(x->no[l], TRUE);
	}
	g_ptr_array_free(x->wrote, TRUE);
	g_ptr_array_free(x->from, TRUE);
	g_ptr_array_free(x->original, TRUE);
	if (x->problems != NULL)
		g_ptr_array_free(x->problems, TRUE);
}

/* Whether folded s starts with word w followed by no letter or digit. */
static int starts_with_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	if (n == 0 || strncmp(s, w, n) != 0)
		return 0;
	return s[n] == '\0' || !g_unichar_isalnum(g_utf8_get_char(s + n));
}

/* A folded line (fold_question) against the texts of question i, in any
 * language; a line cut short by wrapping still matches. */
static int text_matches(const struct extractor *x, unsigned i, const char *f)
{
	size_t n = strlen(f);

	for (unsigned t = 0; t < x->texts[i]->len && n > 0; t++) {
		const char *q = x->texts[i]->pdata[t];
		size_t qn = strlen(q);

		if (strcmp(f, q) == 0 ||
		    (n >= ANSWERS_MIN_WRAPPED_TEXT && n < qn && strncmp(q, f, n) == 0) ||
		    (n > qn && strncmp(f, q, qn) == 0))
			return 1;
	}
	return 0;
}

/* The leading [A-Za-z0-9-] token of s; its length. */
static size_t code_token(const char *s)
{
	size_t n = 0;

	while (g_ascii_isalnum(s[n]) || s[n] == '-')
		n++;
	return n;
}

static const struct qset_question *find_code(const struct extractor *x,
					     const char *s, size_t n)
{
	char *code = g_strndup(s, n);
	const struct qset_question *q = qset_find(x->in->qset, code);

	g_free(code);
	return q;
}

/* A line that shows question q as the request rendered it: "Q2. text",
 * "Q2) text", "Q2." alone, the empty answer line "Q2:", or the question
 * text alone. */
static const struct qset_question *header_match(const struct extractor *x,
						const char *line,
						int *answer_line_r)
{
	const char *s = line, *rest;
	const struct qset_question *q = NULL;
	char *f;
	size_t n;
	int hit;

	*answer_line_r = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	n = code_token(s);
	if (n > 0 && (q = find_code(x, s, n)) != NULL) {
		rest = s + n;
		while (*rest == ' ')
			rest++;
		if (*rest == '.' || *rest == ')') {
			rest++;
			while (*rest == ' ' || *rest == '\t')
				rest++;
			if (*rest == '\0')
				return q;
			f = fold_question(rest);
			hit = text_matches(x, qset_question_index(q), f);
			g_free(f);
			return hit ? q : NULL;
		}
		if (*rest == ':') {
			rest++;
			while (*rest == ' ' || *rest == '\t')
				rest++;
			*answer_line_r = *rest == '\0';
			return *rest == '\0' ? q : NULL;
		}
		return NULL;
	}
	f = fold_question(s);
	for (unsigned i = 0; i < x->n && q == NULL; i++)
		if (text_matches(x, i, f))
			q = qset_question(x->in->qset, i);
	g_free(f);
	return q;
}

static int is_code_like(const char *s, size_t n)
{
	if (n < 2 || (s[0] != 'Q' && s[0] != 'q'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return 0;
	return 1;
}

/* An answer by code at the start of a line; *value_r points into line.
 * numbered: the number that opened the current answer when it was opened
 * by a bare number ("1) Jan Kowalski"), else 0; *number_r gets the bare
 * number this line opens with, 0 for a code. */
static const struct qset_question *code_match(struct extractor *x,
					      const char *line,
					      const struct qset_question *current,
					      unsigned numbered, unsigned *number_r,
					      const char **value_r)
{
	const char *s = line, *rest;
	const struct qset_question *q = NULL;
	size_t n;
	int sep = 0;
	unsigned bare = 0;

	*number_r = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	n = code_token(s);
	if (n == 0)
		return NULL;
	rest = s + n;
	if (g_ascii_isalpha(s[0])) {
		/* "Q3: yes", "Q3 - yes", "Q3) yes", "Q3. yes", "Q3 = yes",
		 * "Q3 yes". */
		q = find_code(x, s, n);
		if (q == NULL) {
			if (is_code_like(s, n) && (rest[0] == ':' || rest[0] == ')')) {
				char *code = g_strndup(s, n);
				g_ptr_array_add(x->problems,
						problem_new(code, "unknown-question",
							    "the reply answers %s, which "
							    "this question set does not have",
							    code));
				g_free(code);
			}
			return NULL;
		}
	} else {
		/* "3) no", "3. no", "3: no", "3 - no": not inside a free
		 * text, where numbered lists are the answer's own (unless
		 * that text was itself opened by a smaller bare number: a
		 * reply numbered "1) ... 3) ..." throughout), and not when
		 * the line starts with a date ("1. März 2026"). */
		char *digits = g_strndup(s, n), *code;
		guint64 num;
		size_t start;
		char iso[DATE_ISO_SIZE];

		if (!g_ascii_string_to_unsigned(digits, 10, 1, ANSWERS_MAX_NUMBER_CODE,
						&num, NULL)) {
			g_free(digits);
			return NULL;
		}
		g_free(digits);
		if (current != NULL && (qset_question_type(current) == QSET_TEXT ||
					qset_question_type(current) == QSET_ATTACHMENT) &&
		    !(numbered > 0 && num > numbered))
			return NULL;
		if (date_find(s, x->in->language, iso, &start) == DATE_FOUND &&
		    start == 0)
			return NULL;
		code = g_strdup_printf("Q%u", (unsigned)num);
		q = qset_find(x->in->qset, code);
		g_free(code);
		if (q == NULL && num <= x->n)
			q = qset_question(x->in->qset, (unsigned)num - 1);
		if (q == NULL)
			return NULL;
		bare = (unsigned)num;
	}
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (strchr(":)=.", *rest) != NULL && *rest != '\0') {
		rest++;
		sep = 1;
	} else if (*rest == '-' || g_str_has_prefix(rest, "\xE2\x80\x93") ||
		   g_str_has_prefix(rest, "\xE2\x80\x94")) {
		rest += *rest == '-' ? 1 : 3;
		sep = 1;
	}
	if (!sep && !g_ascii_isalpha(s[0]))
		return NULL;
	if (!sep && rest == s + n)
		return NULL; /* "Q3yes" */
	while (*rest == ' ' || *rest == '\t')
		rest++;
	*value_r = rest;
	*number_r = bare;
	return q;
}

static char *fold_value(const char *s);

enum origin {
	ORIGIN_CODE,   /* "Q3: yes" */
	ORIGIN_QUOTED, /* under "> Q3. ..." */
	ORIGIN_ECHO,   /* under an unquoted "Q3. ..." (history quoted without
			* marks, e.g. Outlook, or a question pasted) */
};

struct scan_state {
	const struct qset_question *q; /* the question being answered */
	enum origin origin;
	int answer_line;               /* the "Q3:" line of the block was seen */
	int block_closed;              /* a blank line ended the question's block */
	unsigned numbered;             /* the bare number that opened the answer, or 0 */
	GString *buf;                  /* the answer so far */
};

static int blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!g_ascii_isspace(*s))
			return 0;
	return 1;
}

/* A line of ten or more '-', '_' or '=' (the request's rule, Outlook's
 * "-----Original Message-----", signature rules) ends any answer. */
static int separator_line(const char *s)
{
	unsigned run = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s == '-' || *s == '_' || *s == '='; s++)
		run++;
	return run >= 10;
}

/* Lines the request itself puts under a question: its choices
 * ("    - Valid") and its help ("    (For example ...)"). */
static int decoration_line(const struct extractor *x,
			   const struct qset_question *q, const char *line)
{
	unsigned i = qset_question_index(q);
	char *f = fold_value(line);
	int hit = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '(' && line[strlen(line) - 1] == ')')
		hit = qset_question_help(q, "en") != NULL;
	else if (*line == '-' || *line == '*' || g_str_has_prefix(line, "\xE2\x80\x93"))
		for (unsigned c = 0; c < qset_choice_count(q) && !hit; c++)
			for (unsigned k = 0; k < x->choices[i][c]->len && !hit; k++)
				hit = strcmp(f, x->choices[i][c]->pdata[k]) == 0;
	g_free(f);
	return hit;
}

static void scan_finish(struct extractor *x, struct scan_state *st, int pass)
{
	char **lines;
	GString *raw;
	unsigned first = 0, last;

	if (st->q != NULL && !blank(st->buf->str) &&
	    (pass == 0 || st->origin != ORIGIN_CODE)) {
		struct candidate *c = g_new0(struct candidate, 1);

		/* Trim blank lines around; keep the inner layout. */
		lines = g_strsplit(st->buf->str, "\n", -1);
		last = g_strv_length(lines);
		while (first < last && blank(lines[first]))
			first++;
		while (last > first && blank(lines[last - 1]))
			last--;
		raw = g_string_new(NULL);
		for (unsigned i = first; i < last; i++) {
			g_strchomp(lines[i]);
			g_string_append_printf(raw, "%s%s", i > first ? "\n" : "",
					       lines[i]);
		}
		g_strfreev(lines);
		if (raw->len > ANSWERS_MAX_ANSWER_BYTES) {
			/* Keep whole characters; report the cut. */
			const char *end = raw->str + ANSWERS_MAX_ANSWER_BYTES;
			end = g_utf8_find_prev_char(raw->str, end + 1);
			g_string_truncate(raw, (gsize)(end - raw->str));
			g_ptr_array_add(x->problems,
					problem_new(qset_question_code(st->q), "too-long",
						    "the answer to %s is longer than %d "
						    "bytes and was cut",
						    qset_question_code(st->q),
						    ANSWERS_MAX_ANSWER_BYTES));
		}
		c->raw = g_string_free(raw, FALSE);
		c->under_quote = st->origin != ORIGIN_CODE;
		g_ptr_array_add(x->found[qset_question_index(st->q)], c);
	}
	st->q = NULL;
	st->origin = ORIGIN_CODE;
	st->answer_line = 0;
	st->block_closed = 0;
	st->numbered = 0;
	g_string_truncate(st->buf, 0);
}

static void scan_start(struct extractor *x, struct scan_state *st, int pass,
		       const struct qset_question *q, enum origin origin,
		       int answer_line)
{
	scan_finish(x, st, pass);
	st->q = q;
	st->origin = origin;
	st->answer_line = answer_line;
}

/* Strips leading quote marks ("> ", ">>", "> >"); returns the depth. */
static int quote_depth(const char **line)
{
	const char *p = *line;
	int depth = 0;

	while (1) {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '>')
			break;
		depth++;
		p = q + 1;
		if (*p == ' ')
			p++;
	}
	*line = p;
	return depth;
}

static void scan_quoted(struct extractor *x, struct scan_state *st, int pass,
			const char *content)
{
	int answer_line;
	const struct qset_question *h = header_match(x, content, &answer_line);

	if (h != NULL) {
		if (h == st->q && st->origin == ORIGIN_QUOTED &&
		    blank(st->buf->str) && !st->block_closed)
			st->answer_line |= answer_line; /* "> Q1:" under "> Q1. ..." */
		else
			scan_start(x, st, pass, h, ORIGIN_QUOTED, answer_line);
		return;
	}
	if (st->q == NULL)
		return;
	if (!blank(st->buf->str))
		scan_finish(x, st, pass);  /* the answer ends at the quote */
	else if (blank(content))
		st->block_closed = 1;
	else if (st->block_closed)
		scan_finish(x, st, pass);  /* quoted text after the block: the footer */
}

/* Where a client starts the history or a signature, in any language: the
 * quote header "On ... wrote:", "-----Original Message-----" (with the
 * catalogs' translations), a header-block line "From: a@b", a signature
 * delimiter "-- ".  Any answer ends there. */
static int history_marker(const struct extractor *x, const char *line)
{
	char *f;
	size_t n;
	int hit = 0;

	if (strcmp(line, "--") == 0 || strcmp(line, "-- ") == 0)
		return 1;
	f = lang_fold(line);
	g_strstrip(f);
	n = strlen(f);
	if (n > 0 && f[n - 1] == ':')
		for (unsigned i = 0; i < x->wrote->len && !hit; i++)
			hit = strstr(f, x->wrote->pdata[i]) != NULL;
	if (!hit && strstr(f, "---") != NULL)
		for (unsigned i = 0; i < x->original->len && !hit; i++)
			hit = strstr(f, x->original->pdata[i]) != NULL;
	if (!hit && strchr(f, '@') != NULL)
		for (unsigned i = 0; i < x->from->len && !hit; i++) {
			const char *w = x->from->pdata[i];
			size_t wn = strlen(w);
			const char *p = f + wn;

			if (strncmp(f, w, wn) != 0)
				continue;
			while (*p == ' ' || *p == '\t')
				p++;
			hit = *p == ':';
		}
	g_free(f);
	return hit;
}

/* What follows a question on its own line: after the last '?' or ')'
 * (the question's end, or its hint), else NULL. */
static const char *echo_rest(const char *line)
{
	const char *q = strrchr(line, '?'), *p = strrchr(line, ')'), *end;

	end = q == NULL ? p : p == NULL ? q : MAX(p, q);
	if (end == NULL)
		return NULL;
	end++;
	while (*end == ' ' || *end == '\t' || *end == ':' || *end == '-')
		end++;
	return *end != '\0' ? end : NULL;
}

static void scan_unquoted(struct extractor *x, struct scan_state *st, int pass,
			  const char *content)
{
	const struct qset_question *h, *c;
	const char *value = NULL;
	unsigned number;
	int answer_line, buf_blank = blank(st->buf->str);

	if (separator_line(content) || history_marker(x, content)) {
		scan_finish(x, st, pass);
		return;
	}
	if (blank(content)) {
		if (st->q == NULL)
			return;
		if (st->origin == ORIGIN_ECHO && pass == 1 && !buf_blank)
			scan_finish(x, st, pass); /* history: one paragraph */
		else if (st->origin == ORIGIN_ECHO && buf_blank && st->answer_line)
			st->block_closed = 1;
		else if (st->buf->len > 0)
			g_string_append_c(st->buf, '\n');
		return;
	}
	h = header_match(x, content, &answer_line);
	if (h != NULL) {
		const char *rest;

		if (h == st->q && buf_blank)
			st->answer_line |= answer_line; /* "Q2:" under "Q2. ..." */
		else
			/* A bare "Q2:" is the replier's own code line. */
			scan_start(x, st, pass, h,
				   answer_line ? ORIGIN_CODE : ORIGIN_ECHO, answer_line);
		/* "Q1. Is the diploma authentic? (yes / no) Yes": the answer
		 * written after the question on its line. */
		rest = echo_rest(content);
		if (!answer_line && rest != NULL && pass == 0) {
			g_string_append_printf(st->buf, "%s\n", rest);
			st->origin = ORIGIN_CODE;
		}
		return;
	}
	c = code_match(x, content, st->q, st->numbered, &number, &value);
	if (c != NULL) {
		if (!(c == st->q && buf_blank && st->origin != ORIGIN_CODE))
			scan_start(x, st, pass, c, ORIGIN_CODE, 1);
		st->numbered = number;
		g_string_append_printf(st->buf, "%s\n", value);
		return;
	}
	if (st->q == NULL)
		return;
	if (buf_blank && decoration_line(x, st->q, content))
		return;
	if (st->origin == ORIGIN_ECHO && buf_blank &&
	    (st->block_closed || (pass == 1 && !st->answer_line))) {
		/* In quoted-without-marks history, only what follows the
		 * "Q3:" line, up to the block's end, is an answer. */
		if (st->block_closed)
			scan_finish(x, st, pass);
		return;
	}
	g_string_append_printf(st->buf, "%s\n", content);
}

/* pass 0: the new text, everything counts; pass 1: the full text, only
 * answers under questions (quoted or echoed) are kept. */
static int scan(struct extractor *x, const char *text, int pass, char **error_r)
{
	struct scan_state st = {.buf = g_string_new(NULL)};
	char *valid, **lines;
	unsigned n;

	if (strlen(text) > ANSWERS_MAX_TEXT_BYTES) {
		g_string_free(st.buf, TRUE);
		return imi_fail(error_r, IMI_TOOBIG,
				"the reply text is over %d bytes", ANSWERS_MAX_TEXT_BYTES);
	}
	valid = g_utf8_make_valid(text, -1);
	lines = g_strsplit(valid, "\n", -1);
	g_free(valid);
	n = g_strv_length(lines);
	if (n > ANSWERS_MAX_LINES) {
		g_strfreev(lines);
		g_string_free(st.buf, TRUE);
		return imi_fail(error_r, IMI_TOOBIG,
				"the reply text has over %d lines", ANSWERS_MAX_LINES);
	}
	for (unsigned i = 0; i < n; i++) {
		const char *content = lines[i];
		size_t len = strlen(lines[i]);

		if (len > 0 && lines[i][len - 1] == '\r')
			lines[i][len - 1] = '\0';
		if (quote_depth(&content) > 0)
			scan_quoted(x, &st, pass, content);
		else
			scan_unquoted(x, &st, pass, content);
	}
	scan_finish(x, &st, pass);
	g_strfreev(lines);
	g_string_free(st.buf, TRUE);
	return IMI_OK;
}

static const char *first_line(const char *raw, char **copy_r)
{
	const char *nl = strchr(raw, '\n');

	*copy_r = nl != NULL ? g_strndup(raw, (size_t)(nl - raw)) : g_strdup(raw);
	return g_strstrip(*copy_r);
}

/* Folded, without leading bullets, quotes and brackets. */
static char *fold_value(const char *s)
{
	char *f = lang_fold(s);
	const char *p = f;
	char *out;

	while (*p != '\0' &&
	       (strchr(" \t-*[(\"'", *p) != NULL || g_str_has_prefix(p, "\xE2\x80\xA2") ||
		g_str_has_prefix(p, "\xC2\xAB") || g_str_has_prefix(p, "\xE2\x80\x9E")))
		p = g_utf8_next_char(p);
	out = g_strdup(p);
	g_free(f);
	return out;
}

enum verdict { V_NONE, V_OK, V_AMBIGUOUS };

static enum verdict normalize_yesno(const struct extractor *x,
				    const struct qset_question *q,
				    const char *raw, const char **value_r)
{
	char *copy, *f;
	const char *line = first_line(raw, &copy);
	size_t best = 0;
	int best_yes = 0, best_no = 0, hint_yes = 0, hint_no = 0;
	int hint = lang_index(x->in->language);

	f = fold_value(line);
	g_free(copy);
	if (qset_question_type(q) == QSET_CHECK &&
	    (starts_with_word(f, "x") || g_str_has_prefix(f, "\xE2\x9C\x93") ||
	     g_str_has_prefix(f, "\xE2\x9C\x94") || g_str_has_prefix(f, "\xE2\x98\x91") ||
	     g_str_has_prefix(f, "\xE2\x98\x92"))) {
		g_free(f);
		*value_r = "yes";
		return V_OK;
	}
	for (int l = 0; l < LANG_COUNT; l++)
		for (int yn = 0; yn < 2; yn++) {
			GPtrArray *words = yn == 0 ? x->yes[l] : x->no[l];

			for (unsigned w = 0; w < words->len; w++) {
				const char *word = words->pdata[w];
				size_t n = strlen(word);

				if (!starts_with_word(f, word) || n < best)
					continue;
				/* Short words are ordinary words elsewhere (Maltese
				 * "le", Romanian "da", Finnish "e"): from a language
				 * not the replier's, they count only alone or before
				 * punctuation ("Le diplôme..." is no answer, "No, ..."
				 * is). */
				if (l != hint && g_utf8_strlen(word, -1) <= 2 && f[n] != '\0' &&
				    !g_unichar_ispunct(g_utf8_get_char(f + n)))
					continue;
				if (n > best) {
					best = n;
					best_yes = best_no = hint_yes = hint_no = 0;
				}
				if (yn == 0) {
					best_yes = 1;
					hint_yes |= l == hint;
				} else {
					best_no = 1;
					hint_no |= l == hint;
				}
			}
		}
	g_free(f);
	if (best_yes && best_no) {
		if (hint_yes != hint_no) {
			*value_r = hint_yes ? "yes" : "no";
			return V_OK;
		}
		return V_AMBIGUOUS;
	}
	if (!best_yes && !best_no)
		return V_NONE;
	*value_r = best_yes ? "yes" : "no";
	return V_OK;
}

static enum verdict normalize_choice(const struct extractor *x,
				     const struct qset_question *q,
				     const char *raw, const char **value_r)
{
	unsigned i = qset_question_index(q), nc = qset_choice_count(q);
	char *copy, *f;
	const char *line = first_line(raw, &copy);
	int exact = -1, exact_n = 0, prefix = -1, prefix_n = 0;
	size_t best = 0;

	f = fold_value(line);
	g_free(copy);
	while (*f != '\0' && strchr(" .!;,", f[strlen(f) - 1]) != NULL)
		f[strlen(f) - 1] = '\0';
	for (unsigned c = 0; c < nc; c++) {
		int is_exact = 0;
		size_t longest = 0;

		for (unsigned k = 0; k < x->choices[i][c]->len; k++) {
			const char *name = x->choices[i][c]->pdata[k];

			if (strcmp(f, name) == 0)
				is_exact = 1;
			else if (starts_with_word(f, name) && strlen(name) > longest)
				longest = strlen(name);
		}
		if (is_exact) {
			exact = (int)c;
			exact_n++;
		} else if (longest > 0) {
			if (longest > best) {
				best = longest;
				prefix = (int)c;
				prefix_n = 1;
			} else if (longest == best) {
				prefix_n++;
			}
		}
	}
	g_free(f);
	if (exact_n == 1) {
		*value_r = qset_choice_code(q, (unsigned)exact);
		return V_OK;
	}
	if (exact_n > 1)
		return V_AMBIGUOUS;
	if (prefix_n == 1) {
		*value_r = qset_choice_code(q, (unsigned)prefix);
		return V_OK;
	}
	return prefix_n > 1 ? V_AMBIGUOUS : V_NONE;
}

static void answer_free(gpointer p)
{
	struct answer *a = p;

	g_free(a->raw);
	g_free(a->value);
	g_ptr_array_free(a->problems, TRUE);
	g_free(a);
}

/* value (g_free) for raw, or NULL with a problem. */
static char *normalize(const struct extractor *x, const struct qset_question *q,
		       const char *raw, struct answer_problem **problem_r)
{
	const char *code = qset_question_code(q), *v = NULL;
	enum verdict verdict = V_NONE;
	char iso[DATE_ISO_SIZE];

	*problem_r = NULL;
	switch (qset_question_type(q)) {
	case QSET_YESNO:
	case QSET_CHECK:
		verdict = normalize_yesno(x, q, raw, &v);
		break;
	case QSET_CHOICE:
		verdict = normalize_choice(x, q, raw, &v);
		break;
	case QSET_DATE:
		if (date_find(raw, x->in->language, iso, NULL) == DATE_FOUND) {
			v = iso;
			verdict = V_OK;
		}
		break;
	case QSET_TEXT:
	case QSET_ATTACHMENT:
		return g_strdup(raw);
	}
	if (verdict == V_OK)
		return g_strdup(v);
	if (verdict == V_AMBIGUOUS)
		*problem_r = problem_new(code, "ambiguous",
					 "the answer to %s fits more than one %s",
					 code, qset_question_type(q) == QSET_CHOICE
						       ? "choice" : "of yes and no");
	else
		*problem_r = problem_new(code, "not-understood",
					 "the answer to %s is not understood as %s",
					 code, qset_question_type(q) == QSET_DATE ? "a date"
					       : qset_question_type(q) == QSET_CHOICE
						       ? "one of the choices"
						       : "yes or no");
	return NULL;
}

static void answers_build(struct extractor *x, struct answers *out)
{
	for (unsigned i = 0; i < x->n; i++) {
		const struct qset_question *q = qset_question(x->in->qset, i);
		const char *code = qset_question_code(q);
		GPtrArray *found = x->found[i];
		struct answer *a;
		struct answer_problem *p;

		if (found->len == 0) {
			if (qset_question_type(q) == QSET_ATTACHMENT &&
			    x->in->attachments > 0)
				continue;
			if (qset_question_required(q)) {
				g_ptr_array_add(out->missing, (gpointer)code);
				g_ptr_array_add(out->problems,
						problem_new(code, "missing",
							    "no answer to %s, which is required",
							    code));
			}
			continue;
		}
		a = g_new0(struct answer, 1);
		a->question = q;
		a->problems = g_ptr_array_new();
		a->raw = g_strdup(((struct candidate *)found->pdata[0])->raw);
		a->under_quote = ((struct candidate *)found->pdata[0])->under_quote;
		a->value = normalize(x, q, a->raw, &p);
		if (p != NULL) {
			g_ptr_array_add(a->problems, p);
			g_ptr_array_add(out->problems, p);
		}
		for (unsigned c = 1; c < found->len; c++) {
			const struct candidate *other = found->pdata[c];
			char *v = normalize(x, q, other->raw, &p);

			if (p != NULL)
				problem_free(p);
			if (g_strcmp0(v, a->value) != 0 ||
			    (v == NULL && strcmp(other->raw, a->raw) != 0)) {
				p = problem_new(code, "conflict",
						"%s is answered twice, differently; "
						"the first answer counts", code);
				g_ptr_array_add(a->problems, p);
				g_ptr_array_add(out->problems, p);
				g_free(v);
				break;
			}
			g_free(v);
		}
		g_ptr_array_add(out->answers, a);
	}
	/* Reply-level problems, moved over. */
	for (unsigned i = 0; i < x->problems->len; i++) {
		const struct answer_problem *p = x->problems->pdata[i];
		int dup = 0;

		for (unsigned k = 0; k < out->problems->len && !dup; k++) {
			const struct answer_problem *o = out->problems->pdata[k];
			dup = g_strcmp0(o->code, p->code) == 0 &&
			      strcmp(o->kind, p->kind) == 0;
		}
		if (!dup)
			g_ptr_array_add(out->problems,
					problem_new(p->code, p->kind, "%s", p->detail));
	}
}

int answers_extract(const struct answers_input *in, struct answers **answers_r,
		    char **error_r)
{
	struct extractor x;
	struct answers *out;
	int ret;

	*answers_r = NULL;
	if (in->qset == NULL)
		return imi_fail(error_r, IMI_INVALID, "answers: no question set");
	extractor_init(&x, in);
	ret = scan(&x, in->new_text != NULL ? in->new_text : "", 0, error_r);
	if (ret == IMI_OK && in->full_text != NULL) {
		/* Only questions the new text left unanswered. */
		GPtrArray **from_new = x.found;

		x.found = g_new0(GPtrArray *, x.n);
		for (unsigned i = 0; i < x.n; i++)
			x.found[i] = g_ptr_array_new_with_free_func(candidate_free);
		ret = scan(&x, in->full_text, 1, error_r);
		for (unsigned i = 0; i < x.n; i++) {
			if (from_new[i]->len == 0) {
				GPtrArray *t = from_new[i];
				from_new[i] = x.found[i];
				x.found[i] = t;
			}
			g_ptr_array_free(x.found[i], TRUE);
		}
		g_free(x.found);
		x.found = from_new;
	}
	if (ret != IMI_OK) {
		extractor_clear(&x);
		return ret;
	}
	out = g_new0(struct answers, 1);
	out->qset = in->qset;
	out->answers = g_ptr_array_new_with_free_func(answer_free);
	out->problems = g_ptr_array_new_with_free_func(problem_free);
	out->missing = g_ptr_array_new();
	answers_build(&x, out);
	extractor_clear(&x);
	*answers_r = out;
	return IMI_OK;
}

void answers_free(struct answers **answersp)
{
	struct answers *a = *answersp;

	if (a == NULL)
		return;
	*answersp = NULL;
	/* Answers hold borrowed pointers to problems: free them first. */
	g_ptr_array_free(a->answers, TRUE);
	g_ptr_array_free(a->problems, TRUE);
	g_ptr_array_free(a->missing, TRUE);
	g_free(a);
}

unsigned answers_count(const struct answers *answers)
{
	return answers->answers->len;
}

const struct answer *answers_get(const struct answers *answers, unsigned i)
{
	return i < answers->answers->len ? answers->answers->pdata[i] : NULL;
}

const struct answer *answers_find(const struct answers *answers,
				  const char *code)
{
	for (unsigned i = 0; i < answers->answers->len; i++) {
		const struct answer *a = answers->answers->pdata[i];
		if (g_ascii_strcasecmp(qset_question_code(a->question), code) == 0)
			return a;
	}
	return NULL;
}

unsigned answers_problem_count(const struct answers *answers)
{
	return answers->problems->len;
}

const struct answer_problem *answers_problem(const struct answers *answers,
					     unsigned i)
{
	return i < answers->problems->len ? answers->problems->pdata[i] : NULL;
}

static void json_problem(JsonBuilder *b, const struct answer_problem *p,
			 int with_code)
{
	json_builder_begin_object(b);
	if (with_code) {
		json_builder_set_member_name(b, "code");
		if (p->code != NULL)
			json_builder_add_string_value(b, p->code);
		else
			json_builder_add_null_value(b);
	}
	json_builder_set_member_name(b, "kind");
	json_builder_add_string_value(b, p->kind);
	json_builder_set_member_name(b, "detail");
	json_builder_add_string_value(b, p->detail);
	json_builder_end_object(b);
}

JsonNode *answers_to_json(const struct answers *answers)
{
	JsonBuilder *b = json_builder_new();
	JsonNode *root;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "qset");
	json_builder_add_string_value(b, qset_id(answers->qset));
	json_builder_set_member_name(b, "complete");
	json_builder_add_boolean_value(b, answers->problems->len == 0);
	json_builder_set_member_name(b, "answers");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < answers->answers->len; i++) {
		const struct answer *a = answers->answers->pdata[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "code");
		json_builder_add_string_value(b, qset_question_code(a->question));
		json_builder_set_member_name(b, "type");
		json_builder_add_string_value(b, qset_type_name(qset_question_type(a->question)));
		json_builder_set_member_name(b, "raw");
		json_builder_add_string_value(b, a->raw);
		json_builder_set_member_name(b, "value");
		if (a->value != NULL)
			json_builder_add_string_value(b, a->value);
		else
			json_builder_add_null_value(b);
		json_builder_set_member_name(b, "under_quote");
		json_builder_add_boolean_value(b, a->under_quote);
		json_builder_set_member_name(b, "problems");
		json_builder_begin_array(b);
		for (unsigned k = 0; k < a->problems->len; k++)
			json_problem(b, a->problems->pdata[k], 0);
		json_builder_end_array(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "missing");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < answers->missing->len; i++)
		json_builder_add_string_value(b, answers->missing->pdata[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "problems");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < answers->problems->len; i++)
		json_problem(b, answers->problems->pdata[i], 1);
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	g_object_unref(b);
	return root;
}

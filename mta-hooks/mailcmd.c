/*
 * mailcmd.c: commands by e-mail (mailcmd.h).
 *
 * Phases of one command: parse (subject, else the body's first line; the
 * "key: value" lines after it), check the sender's role and country, run
 * it on the store, answer.  A refusal answers and audits only.
 */
#include "mta-hooks/mailcmd.h"

#include <string.h>

#include "mta-hooks/held.h"
#include "parser/token.h"
#include "parser/trim.h"
#include "policies/alert.h"
#include "policies/case_record.h"
#include "store/directory_change.h"
#include "templates/lang.h"
#include "templates/qset_store.h"
#include "templates/render.h"

#define MAILCMD_MAX_SUBJECT_PREFIXES 10 /* "Re: AW: Fwd:" stripped */

static const struct {
	const char *word;        /* first word */
	const char *sub;         /* second word, or NULL */
	enum mailcmd_verb verb;
	const char *name;
	const char *usage;
} mailcmd_table[] = {
	{"HELP", NULL, MAILCMD_HELP, "HELP",
	 "HELP\nHELP REQUEST <form> [<authority>]\nHELP ALERT <form>"},
	{"STATUS", NULL, MAILCMD_STATUS, "STATUS", "STATUS"},
	{"FIND", NULL, MAILCMD_FIND, "FIND", "FIND <words>"},
	{"AUTHORITY", "ADD", MAILCMD_AUTHORITY_ADD, "AUTHORITY ADD",
	 "Subject: AUTHORITY ADD\nid: fr-example\nname: fr=Nom de l'autorité\n"
	 "language: fr\narea: professional-qualifications\npostbox: imi@example.fr\n"
	 "domain: example.fr"},
	{"AUTHORITY", "UPDATE", MAILCMD_AUTHORITY_UPDATE, "AUTHORITY UPDATE",
	 "Subject: AUTHORITY UPDATE <authority>\n(only the lines to change) name: "
	 "lang=Name | language: | area: | postbox: | domain:"},
	{"AUTHORITY", "DISABLE", MAILCMD_AUTHORITY_DISABLE, "AUTHORITY DISABLE",
	 "Subject: AUTHORITY DISABLE <authority>"},
	{"USER", "ADD", MAILCMD_USER_ADD, "USER ADD",
	 "Subject: USER ADD\nemail: name@example.fr\nauthority: fr-example\n"
	 "role: handler (handler, coordinator, alert_coordinator, alert_sender)\n"
	 "name: First Last"},
	{"USER", "DISABLE", MAILCMD_USER_DISABLE, "USER DISABLE",
	 "Subject: USER DISABLE <address>"},
	{"ALERTS", "GRANT", MAILCMD_ALERTS_GRANT, "ALERTS GRANT",
	 "Subject: ALERTS GRANT <authority>"},
	{"ALERTS", "REVOKE", MAILCMD_ALERTS_REVOKE, "ALERTS REVOKE",
	 "Subject: ALERTS REVOKE <authority>"},
	{"SPF-ALIGNED", NULL, MAILCMD_SPF_ALIGNED, "SPF-ALIGNED",
	 "Subject: SPF-ALIGNED <authority> on|off"},
	{"HELD", "LIST", MAILCMD_HELD_LIST, "HELD LIST", "Subject: HELD LIST"},
	{"HELD", "RELEASE", MAILCMD_HELD_RELEASE, "HELD RELEASE",
	 "Subject: HELD RELEASE <number>"},
	{"HELD", "DISCARD", MAILCMD_HELD_DISCARD, "HELD DISCARD",
	 "Subject: HELD DISCARD <number>"},
};

struct mailcmd {
	enum mailcmd_verb verb;
	unsigned entry;          /* index in mailcmd_table (a group's first when malformed) */
	GPtrArray *words;        /* after the command words; NULL-terminated */
	GPtrArray *keys, *values;
	char *group_usage;       /* MAILCMD_MALFORMED: the group's syntax */
};

/* ---- parsing ---- */

static const char *subject_core(const char *subject)
{
	const char *p = subject != NULL ? subject : "";

	for (unsigned n = 0; n < MAILCMD_MAX_SUBJECT_PREFIXES; n++) {
		const char *q = p, *colon;

		while (*q == ' ' || *q == '\t')
			q++;
		colon = strchr(q, ':');
		if (colon == NULL || colon - q > 4 || colon == q)
			return q;
		for (const char *c = q; c < colon; c++)
			if (!g_ascii_isalpha(*c))
				return q;
		p = colon + 1;
	}
	return p;
}

/* Words of one line (at most MAILCMD_MAX_WORDS, a bounded line). */
static char **line_words(const char *line)
{
	char *copy = g_strndup(line, MAILCMD_MAX_LINE);
	char **parts = g_strsplit_set(copy, " \t\r\n", -1);
	GPtrArray *v = g_ptr_array_new();

	for (char **p = parts; *p != NULL && v->len < MAILCMD_MAX_WORDS; p++)
		if (**p != '\0')
			g_ptr_array_add(v, g_strdup(*p));
	g_ptr_array_add(v, NULL);
	g_strfreev(parts);
	g_free(copy);
	return (char **)g_ptr_array_free(v, FALSE);
}

static int line_blank(const char *line)
{
	for (const char *p = line; *p != '\0'; p++)
		if (!g_ascii_isspace(*p))
			return 0;
	return 1;
}

/* The command a line starts with; *used_r: words it takes. */
static enum mailcmd_verb line_command(char **w, unsigned *entry_r, unsigned *used_r)
{
	int group = -1;

	if (w[0] == NULL)
		return MAILCMD_NONE;
	for (unsigned i = 0; i < G_N_ELEMENTS(mailcmd_table); i++) {
		if (g_ascii_strcasecmp(w[0], mailcmd_table[i].word) != 0)
			continue;
		if (group < 0)
			group = (int)i;
		if (mailcmd_table[i].sub == NULL) {
			*entry_r = i;
			*used_r = 1;
			return mailcmd_table[i].verb;
		}
		if (w[1] != NULL && g_ascii_strcasecmp(w[1], mailcmd_table[i].sub) == 0) {
			*entry_r = i;
			*used_r = 2;
			return mailcmd_table[i].verb;
		}
	}
	if (group < 0)
		return MAILCMD_NONE;
	*entry_r = (unsigned)group;
	*used_r = 1;
	return MAILCMD_MALFORMED;
}

/* "key: value" lines, up to a signature or quoted history. */
static void body_arguments(struct mailcmd *cmd, char **lines, unsigned from)
{
	for (unsigned i = from; lines[i] != NULL && i < MAILCMD_MAX_LINES &&
				cmd->keys->len < MAILCMD_MAX_ARGS; i++) {
		const char *line = lines[i], *colon;
		char *key, *value;
		gboolean ok = TRUE;

		if (strcmp(line, "-- ") == 0 || strcmp(line, "--") == 0 || line[0] == '>')
			break;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line || colon - line > 32 ||
		    strlen(line) > MAILCMD_MAX_LINE)
			continue;
		for (const char *c = line; c < colon; c++)
			if (!g_ascii_isalpha(*c) && *c != '-' && *c != '_')
				ok = FALSE;
		if (!ok)
			continue;
		key = g_ascii_strdown(line, colon - line);
		value = g_strstrip(g_strdup(colon + 1));
		if (*value == '\0') {
			g_free(key);
			g_free(value);
			continue;
		}
		g_ptr_array_add(cmd->keys, key);
		g_ptr_array_add(cmd->values, value);
	}
}

/* A group's usages, for a command word without its second word. */
static char *usage_of_group(unsigned e)
{
	GString *s = g_string_new("");

	for (unsigned i = e; i < G_N_ELEMENTS(mailcmd_table); i++)
		if (strcmp(mailcmd_table[i].word, mailcmd_table[e].word) == 0)
			g_string_append_printf(s, "%s%s", s->len ? "\n\n" : "",
					       mailcmd_table[i].usage);
	return g_string_free(s, FALSE);
}

void mailcmd_parse(const char *subject, const char *body, struct mailcmd **cmd_r)
{
	struct mailcmd *cmd = g_new0(struct mailcmd, 1);
	char **w = line_words(subject_core(subject));
	char **lines = g_strsplit(body != NULL ? body : "", "\n", MAILCMD_MAX_LINES + 1);
	unsigned used = 0, first = 0;

	cmd->keys = g_ptr_array_new_with_free_func(g_free);
	cmd->values = g_ptr_array_new_with_free_func(g_free);
	cmd->words = g_ptr_array_new_with_free_func(g_free);
	for (unsigned i = 0; lines[i] != NULL; i++)
		g_strchomp(lines[i]); /* CR of CRLF, trailing blanks */
	cmd->verb = line_command(w, &cmd->entry, &used);
	if (cmd->verb == MAILCMD_NONE) {
		/* The body's first non-empty line. */
		while (lines[first] != NULL && first < MAILCMD_MAX_LINES &&
		       line_blank(lines[first]))
			first++;
		g_strfreev(w);
		w = line_words(lines[first] != NULL ? lines[first] : "");
		cmd->verb = line_command(w, &cmd->entry, &used);
		if (lines[first] != NULL)
			first++;
	}
	if (cmd->verb == MAILCMD_MALFORMED)
		cmd->group_usage = usage_of_group(cmd->entry);
	if (cmd->verb != MAILCMD_NONE) {
		for (unsigned i = used; w[i] != NULL; i++)
			g_ptr_array_add(cmd->words, g_strdup(w[i]));
		body_arguments(cmd, lines, first);
	}
	g_ptr_array_add(cmd->words, NULL);
	g_strfreev(w);
	g_strfreev(lines);
	*cmd_r = cmd;
}

void mailcmd_free(struct mailcmd **cmd)
{
	if (*cmd == NULL)
		return;
	g_ptr_array_free((*cmd)->words, TRUE);
	g_ptr_array_free((*cmd)->keys, TRUE);
	g_ptr_array_free((*cmd)->values, TRUE);
	g_free((*cmd)->group_usage);
	g_free(*cmd);
	*cmd = NULL;
}

enum mailcmd_verb mailcmd_verb(const struct mailcmd *cmd)
{
	return cmd->verb;
}

const char *mailcmd_name(const struct mailcmd *cmd)
{
	if (cmd->verb == MAILCMD_NONE)
		return "";
	if (cmd->verb == MAILCMD_MALFORMED)
		return mailcmd_table[cmd->entry].word;
	return mailcmd_table[cmd->entry].name;
}

const char *mailcmd_usage(const struct mailcmd *cmd)
{
	if (cmd->verb == MAILCMD_NONE)
		return "";
	return cmd->verb == MAILCMD_MALFORMED ? cmd->group_usage : mailcmd_table[cmd->entry].usage;
}

const char *const *mailcmd_words(const struct mailcmd *cmd)
{
	return (const char *const *)cmd->words->pdata;
}

const char *mailcmd_value(const struct mailcmd *cmd, const char *key)
{
	for (guint i = 0; i < cmd->keys->len; i++)
		if (strcmp(g_ptr_array_index(cmd->keys, i), key) == 0)
			return g_ptr_array_index(cmd->values, i);
	return NULL;
}

const char **mailcmd_values(const struct mailcmd *cmd, const char *key)
{
	const char **v = g_new0(const char *, cmd->keys->len + 1);
	unsigned n = 0;

	for (guint i = 0; i < cmd->keys->len; i++)
		if (strcmp(g_ptr_array_index(cmd->keys, i), key) == 0)
			v[n++] = g_ptr_array_index(cmd->values, i);
	return v;
}

int mailcmd_for_coordinators(enum mailcmd_verb verb)
{
	return verb >= MAILCMD_AUTHORITY_ADD;
}

void mailcmd_outcome_clear(struct mailcmd_outcome *out)
{
	g_free(out->case_id);
	g_free(out->reason);
	memset(out, 0, sizeof(*out));
}

/* ---- answering ---- */

struct run {
	struct store_txn *txn;
	struct request_env *env;
	const struct mailcmd *cmd;
	const struct user *user;
	struct authority *authority;  /* the sender's */
	const char *lang;             /* the sender's authority's language */
	const char *in_reply_to;
	struct mailcmd_outcome *out;
};

/* Placeholders every reply may use. */
struct reply_args {
	const char *count, *country, *date, *reason, *usage, *case_id, *authority, *action;
};

static int reply(struct run *r, const char *const *body_keys, const struct reply_args *a,
		 const char *body_text, const char *reply_to, const char *case_id,
		 char **error_r)
{
	const struct imi_conf *conf = r->env->conf;
	char *from = g_strdup_printf("%s@%s", conf->service_local, conf->service_domain);
	char *rnd = g_uuid_string_random();
	char *msgid = g_strdup_printf("mailcmd.%s@%s", rnd, conf->service_domain);
	char *today = case_day(imi_now());
	char *date = lang_format_date(a->date != NULL ? a->date : today, r->lang);
	const struct catalog_arg args[] = {
		{"command", mailcmd_name(r->cmd)},
		{"count", a->count},
		{"country", a->country != NULL ? a->country : r->authority->country},
		{"date", date != NULL ? date : today},
		{"reason", a->reason},
		{"usage", a->usage},
		{"case", a->case_id},
		{"authority", a->authority},
		{"action", a->action != NULL ? a->action : from},
		{NULL, NULL},
	};
	const char *rcpts[] = {r->user->email, NULL};
	struct render_notice rn;
	char *raw = NULL;
	size_t len = 0;
	int ret, allowed = 1;

	memset(&rn, 0, sizeof(rn));
	rn.env.from_address = from;
	rn.env.from_name = conf->service_name;
	rn.env.to_address = r->user->email;
	rn.env.to_name = r->user->name != NULL && *r->user->name ? r->user->name : NULL;
	rn.env.reply_to = reply_to;
	rn.env.message_id = msgid;
	rn.env.in_reply_to = r->in_reply_to;
	rn.env.service_domain = conf->service_domain;
	rn.catalog = r->env->catalog;
	rn.language = r->lang;
	rn.case_id = case_id != NULL ? case_id : a->case_id; /* %{case}, and the tag */
	rn.subject_key = "mailcmd.subject";
	rn.body_keys = body_keys;
	rn.args = args;
	rn.body_text = body_text;
	/* Replies to one address are capped per hour ([Limits]
	 * RepliesPerHour of requests.ini): the command ran, no reply goes. */
	ret = request_reply_allowed(r->txn, r->env, r->user->email, &allowed, error_r);
	if (ret == IMI_OK && !allowed) {
		ret = store_audit(r->txn, r->user->id, NULL, "mailcmd.rate-limited",
				  mailcmd_name(r->cmd), error_r);
		goto out;
	}
	if (ret == IMI_OK)
		ret = render_notice(&rn, &raw, &len, error_r);
	if (ret == IMI_OK)
		ret = outbox_put(r->txn, case_id, from, rcpts, msgid, raw, len, NULL, error_r);
out:
	if (raw != NULL)
		memset(raw, 0, len);
	g_free(raw);
	g_free(date);
	g_free(today);
	g_free(msgid);
	g_free(rnd);
	g_free(from);
	return ret;
}

static int audit(struct run *r, const char *event, const char *detail, char **error_r)
{
	char *d = g_strdup_printf("%s%s%s", mailcmd_name(r->cmd), detail != NULL ? " " : "",
				  detail != NULL ? detail : "");
	int ret = store_audit(r->txn, r->user->id, NULL, event, d, error_r);

	g_free(d);
	return ret;
}

/* A refusal: one reply, one audit entry, nothing else. */
static int refuse(struct run *r, const char *key, const char *reason, char **error_r)
{
	const char *body[] = {key, NULL};
	struct reply_args a = {0};
	char *detail;
	int ret;

	a.reason = reason;
	a.usage = mailcmd_usage(r->cmd);
	r->out->applied = 0;
	g_free(r->out->reason);
	r->out->reason = g_strdup_printf("%s refused: %s", mailcmd_name(r->cmd),
					 key + strlen("mailcmd.refused-"));
	if ((ret = reply(r, body, &a, NULL, NULL, NULL, error_r)) != IMI_OK)
		return ret;
	detail = g_strdup(key + strlen("mailcmd."));
	ret = audit(r, "mailcmd.refused", detail, error_r);
	g_free(detail);
	return ret;
}

static int done(struct run *r, const char *what, char **error_r)
{
	const char *body[] = {"mailcmd.done", NULL};
	struct reply_args a = {0};
	int ret;

	a.reason = what;
	r->out->applied = 1;
	g_free(r->out->reason);
	r->out->reason = g_strdup_printf("%s done", mailcmd_name(r->cmd));
	if ((ret = reply(r, body, &a, NULL, NULL, NULL, error_r)) != IMI_OK)
		return ret;
	return audit(r, "mailcmd.done", what, error_r);
}

/* ---- HELP ---- */

static void sets_add(GPtrArray *ids, const char *id)
{
	for (guint i = 0; i < ids->len; i++)
		if (strcmp(g_ptr_array_index(ids, i), id) == 0)
			return;
	if (ids->len < MAILCMD_MAX_SETS)
		g_ptr_array_add(ids, g_strdup(id));
}

static int sets_stored(const void *key, size_t key_len, const void *value, size_t len,
		       void *ctx)
{
	char *id = g_strndup(key, key_len);

	sets_add(ctx, id);
	g_free(id);
	return 0;
}

/* A set by id: stored, else the installed file. */
static int set_get(struct run *r, const char *id, struct qset **qset_r, char **error_r)
{
	char *path;
	int ret;

	if (!qset_id_valid(id))
		return imi_fail(error_r, IMI_NOTFOUND, "no form '%s'", id);
	ret = qset_store_get(r->txn, id, qset_r, NULL);
	if (ret != IMI_NOTFOUND)
		return ret == IMI_OK ? IMI_OK : qset_store_get(r->txn, id, qset_r, error_r);
	if ((path = qset_file_path(r->env->conf, id)) == NULL)
		return imi_fail(error_r, IMI_NOTFOUND, "no form '%s'", id);
	ret = qset_load_file(path, qset_r, error_r);
	g_free(path);
	return ret;
}

/* "id  title" of every request (and, with alerts, alert) set. */
static int sets_text(struct run *r, int alerts, GString *s, char **error_r)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	char *probe = g_build_filename(r->env->conf->datadir, "templates", "sets", NULL);
	char *dir = g_file_test(probe, G_FILE_TEST_IS_DIR)
			    ? g_strdup(probe)
			    : g_build_filename(r->env->conf->datadir, "sets", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	int ret = store_each(r->txn, STORE_QSETS, NULL, 0, sets_stored, ids, error_r);

	for (const char *name; ret == IMI_OK && d != NULL && (name = g_dir_read_name(d)) != NULL;)
		if (g_str_has_suffix(name, ".ini")) {
			char *id = g_strndup(name, strlen(name) - 4);
			sets_add(ids, id);
			g_free(id);
		}
	if (d != NULL)
		g_dir_close(d);
	g_ptr_array_sort(ids, (GCompareFunc)(void *)g_strcmp0);
	for (guint i = 0; ret == IMI_OK && i < ids->len; i++) {
		struct qset *q = NULL;
		const char *id = g_ptr_array_index(ids, i);

		if (set_get(r, id, &q, NULL) != IMI_OK)
			continue;
		if (qset_kind(q) == QSET_KIND_REQUEST ||
		    (alerts && qset_kind(q) == QSET_KIND_ALERT))
			g_string_append_printf(s, "%s%s  %s: %s\n",
					       qset_kind(q) == QSET_KIND_ALERT ? "HELP ALERT "
										: "HELP REQUEST ",
					       id, qset_kind_name(qset_kind(q)),
					       qset_title(q, r->lang));
		qset_free(&q);
	}
	g_ptr_array_free(ids, TRUE);
	g_free(dir);
	g_free(probe);
	return ret == 1 ? IMI_OK : ret;
}

static int may_alert(const struct run *r)
{
	return r->authority->alerts && !r->authority->disabled &&
	       user_has_role(r->user, "alert_sender");
}

static int help_list(struct run *r, char **error_r)
{
	int coordinator = user_has_role(r->user, "coordinator");
	const char *body[] = {"help.body", "mailcmd.commands",
			      coordinator ? "mailcmd.commands-coordinator" : "mailcmd.forms",
			      coordinator ? "mailcmd.forms" : NULL, NULL};
	struct reply_args a = {0};
	GString *s = g_string_new("");
	int ret = sets_text(r, may_alert(r), s, error_r);

	if (ret == IMI_OK)
		ret = reply(r, body, &a, s->str, NULL, NULL, error_r);
	if (ret == IMI_OK)
		ret = audit(r, "mailcmd.help", NULL, error_r);
	r->out->reason = g_strdup("HELP answered");
	g_string_free(s, TRUE);
	return ret;
}

static int token_for(struct run *r, const char *case_id, char **address_r, char **error_r)
{
	char *ref = g_ascii_strdown(case_id, -1);
	int64_t expiry = token_day(imi_now()) + r->env->conf->token_lifetime_days;
	int ret = token_address(r->env->token_key, r->env->conf->service_local, '+',
				r->env->conf->service_domain, ref, r->authority->id, "reply",
				expiry, address_r, error_r);

	g_free(ref);
	return ret;
}

/* The form's text: the three lines to fill in, then the questions the
 * other authority will be asked. */
static char *form_text(struct run *r, const struct qset *q, const char *responder)
{
	GString *s = g_string_new("");

	g_string_append_printf(s, "To authority: %s\nAbout: \nDeadline: \n\n",
			       responder != NULL ? responder : "");
	g_string_append_printf(s, "---- %s (%s) ----\n", qset_title(q, r->lang), qset_id(q));
	for (unsigned i = 0; i < qset_count(q); i++) {
		const struct qset_question *qq = qset_question(q, i);
		char *line = render_question_line(qq, r->env->catalog, r->lang);

		g_string_append_printf(s, "%s. %s\n", qset_question_code(qq), line);
		g_free(line);
	}
	return g_string_free(s, FALSE);
}

static int form_mail(struct run *r, JsonObject *c, const struct qset *q, const char *body_key,
		     const char *reason, char **error_r)
{
	const char *body[] = {body_key, "mailcmd.form-intro", NULL};
	struct reply_args a = {0};
	char *reply_to = NULL, *text;
	int ret;

	if ((ret = token_for(r, case_str(c, "id"), &reply_to, error_r)) != IMI_OK)
		return ret;
	a.case_id = case_str(c, "id");
	a.reason = reason;
	a.action = reply_to;
	text = form_text(r, q, case_str(c, "responder"));
	ret = reply(r, body_key != NULL ? body : body + 1, &a, text, reply_to, case_str(c, "id"),
		    error_r);
	g_free(text);
	g_free(reply_to);
	return ret;
}

static int help_request(struct run *r, const char *set, const char *responder, char **error_r)
{
	struct qset *q = NULL;
	struct authority *to = NULL;
	JsonObject *c = NULL;
	char *case_id = NULL, *key_id;
	uint64_t n;
	int ret;

	if (!user_has_role(r->user, "handler"))
		return refuse(r, "mailcmd.refused-role", "handler", error_r);
	if ((ret = set_get(r, set, &q, error_r)) != IMI_OK || qset_kind(q) != QSET_KIND_REQUEST) {
		qset_free(&q);
		if (ret != IMI_OK && ret != IMI_NOTFOUND && ret != IMI_INVALID)
			return ret;
		g_free(*error_r);
		*error_r = NULL;
		return refuse(r, "mailcmd.refused-unknown", set, error_r);
	}
	if (responder != NULL) {
		ret = store_authority_get(r->txn, responder, &to, NULL);
		if (ret != IMI_OK && ret != IMI_NOTFOUND && ret != IMI_INVALID) {
			qset_free(&q);
			return store_authority_get(r->txn, responder, &to, error_r);
		}
		if (ret != IMI_OK || to->disabled) {
			authority_free(&to);
			qset_free(&q);
			return refuse(r, "mailcmd.refused-unknown", responder, error_r);
		}
	}
	if ((ret = store_next(r->txn, "cases", &n, error_r)) != IMI_OK)
		goto out;
	{
		GDateTime *dt = g_date_time_new_from_unix_utc(imi_now());
		case_id = g_strdup_printf("IMI-%04d-%06" G_GUINT64_FORMAT,
					  g_date_time_get_year(dt), n);
		g_date_time_unref(dt);
	}
	key_id = case_key_id(case_id);
	ret = store_key_create(r->txn, key_id, error_r);
	g_free(key_id);
	if (ret != IMI_OK)
		goto out;
	c = json_object_new();
	json_object_set_int_member(c, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(c, "id", case_id);
	json_object_set_string_member(c, "kind", "request-form");
	json_object_set_string_member(c, "qset", qset_id(q));
	json_object_set_string_member(c, "requester", r->authority->id);
	if (to != NULL)
		json_object_set_string_member(c, "responder", to->id);
	json_object_set_string_member(c, "sender_user", r->user->id);
	json_object_set_string_member(c, "state", "draft");
	json_object_set_int_member(c, "created", imi_now());
	json_object_set_string_member(c, "retention", "");
	if ((ret = form_mail(r, c, q, NULL, NULL, error_r)) != IMI_OK ||
	    (ret = store_record_put(r->txn, STORE_CASES, case_id, c, STORE_PUT_NEW,
				    error_r)) != IMI_OK)
		goto out;
	ret = store_audit(r->txn, r->user->id, case_id, "mailcmd.form", qset_id(q), error_r);
	r->out->reason = g_strdup_printf("request form %s sent", qset_id(q));
out:
	if (c != NULL)
		json_object_unref(c);
	g_free(case_id);
	authority_free(&to);
	qset_free(&q);
	return ret;
}

static int help_alert(struct run *r, const char *set, char **error_r)
{
	char *case_id = NULL;
	int ret;

	if (!may_alert(r))
		return refuse(r, "mailcmd.refused-alerts", NULL, error_r);
	ret = alert_form_send(r->txn, r->env, r->authority->id, set, r->user->email, &case_id,
			      error_r);
	if (ret == IMI_NOTFOUND || ret == IMI_INVALID) {
		g_free(*error_r);
		*error_r = NULL;
		return refuse(r, "mailcmd.refused-unknown", set, error_r);
	}
	if (ret == IMI_DENIED) {
		g_free(*error_r);
		*error_r = NULL;
		return refuse(r, "mailcmd.refused-alerts", NULL, error_r);
	}
	if (ret == IMI_OK) {
		r->out->reason = g_strdup_printf("alert form %s sent", set);
		ret = audit(r, "mailcmd.help", set, error_r);
	}
	g_free(case_id);
	return ret;
}

static int run_help(struct run *r, char **error_r)
{
	const char *const *w = mailcmd_words(r->cmd);

	if (w[0] == NULL)
		return help_list(r, error_r);
	if (g_ascii_strcasecmp(w[0], "REQUEST") == 0 && w[1] != NULL)
		return help_request(r, w[1], w[2], error_r);
	if (g_ascii_strcasecmp(w[0], "ALERT") == 0 && w[1] != NULL)
		return help_alert(r, w[1], error_r);
	return refuse(r, "mailcmd.refused-malformed", w[0], error_r);
}

/* ---- STATUS ---- */

struct status_walk {
	struct store_txn *txn;
	struct request_env *env;
	const char *authority;
	const char *lang;
	GString *lines;
	GHashTable *titles;  /* qset id -> title */
	unsigned count;
};

static int status_party(JsonObject *c, const char *id)
{
	JsonArray *rcpt;

	if (g_strcmp0(case_str(c, "requester"), id) == 0 ||
	    g_strcmp0(case_str(c, "responder"), id) == 0 ||
	    g_strcmp0(case_str(c, "initiator"), id) == 0)
		return 1;
	if (!json_object_has_member(c, "recipient_authorities"))
		return 0;
	rcpt = json_object_get_array_member(c, "recipient_authorities");
	for (guint i = 0; rcpt != NULL && i < json_array_get_length(rcpt); i++)
		if (g_strcmp0(json_array_get_string_element(rcpt, i), id) == 0)
			return 1;
	return 0;
}

static int status_step(const void *key, size_t key_len, const void *value, size_t len,
		       void *ctx)
{
	struct status_walk *w = ctx;
	JsonObject *c = NULL;
	const char *kind, *qid, *title;

	if (store_record_parse(value, len, &c, NULL) != IMI_OK)
		return 0;
	kind = case_str(c, "kind");
	qid = case_str(c, "qset");
	/* Open cases the authority is party to: need-to-know. */
	if ((g_strcmp0(kind, "request") == 0 || g_strcmp0(kind, "alert") == 0) &&
	    case_int(c, "closed_at") == 0 && g_strcmp0(case_str(c, "state"), "draft") != 0 &&
	    g_strcmp0(case_str(c, "retention"), "") == 0 && status_party(c, w->authority)) {
		char *day = case_day(case_int(c, "created"));

		title = qid != NULL ? g_hash_table_lookup(w->titles, qid) : NULL;
		if (title == NULL && qid != NULL) {
			struct qset *q = NULL;

			if (qset_store_get(w->txn, qid, &q, NULL) == IMI_OK) {
				g_hash_table_insert(w->titles, g_strdup(qid),
						    g_strdup(qset_title(q, w->lang)));
				title = g_hash_table_lookup(w->titles, qid);
			}
			qset_free(&q);
		}
		g_string_append_printf(w->lines, "%s  %s  %s  %s\n", case_str(c, "id"),
				       title != NULL ? title : (qid != NULL ? qid : ""),
				       request_state_word(w->env, w->lang, case_str(c, "state")), day);
		g_free(day);
		w->count++;
	}
	json_object_unref(c);
	return w->count >= MAILCMD_MAX_STATUS ? 1 : 0;
}

int mailcmd_status_lines(struct store_txn *txn, struct request_env *env,
			 const struct authority *a, const char *lang, char **lines_r,
			 unsigned *count_r, char **error_r)
{
	struct status_walk w = {txn, env, a->id, lang, g_string_new(""),
				g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), 0};
	int ret = store_each(txn, STORE_CASES, NULL, 0, status_step, &w, error_r);

	g_hash_table_destroy(w.titles);
	if (ret == 1)
		ret = IMI_OK;
	if (ret != IMI_OK) {
		g_string_free(w.lines, TRUE);
		return ret;
	}
	*count_r = w.count;
	*lines_r = g_string_free(w.lines, FALSE);
	return IMI_OK;
}

static int run_status(struct run *r, char **error_r)
{
	const char *body[] = {"mailcmd.status-intro", NULL};
	struct reply_args a = {0};
	char *lines = NULL, count[16];
	unsigned n = 0;
	int ret = mailcmd_status_lines(r->txn, r->env, r->authority, r->lang, &lines, &n, error_r);

	if (ret != IMI_OK)
		return ret;
	g_snprintf(count, sizeof(count), "%u", n);
	a.count = count;
	ret = reply(r, body, &a, lines, NULL, NULL, error_r);
	if (ret == IMI_OK)
		ret = audit(r, "mailcmd.status", count, error_r);
	r->out->reason = g_strdup_printf("STATUS answered (%u cases)", n);
	g_free(lines);
	return ret;
}

/* ---- FIND ---- */

struct find_walk {
	const char *const *words;
	const char *lang;
	GString *lines;
	unsigned count, more;
};

static int find_one(struct authority *a, void *ctx)
{
	struct find_walk *f = ctx;

	if (a->disabled)
		return 0;
	for (const char *const *w = f->words; *w != NULL; w++)
		if (!directory_match(a, NULL, NULL, *w))
			return 0;
	if (f->count >= MAILCMD_MAX_FIND_RESULTS) {
		f->more = 1;
		return 1;
	}
	g_string_append_printf(f->lines, "%s  %s  (%s)  %s\n", a->id,
			       case_authority_name(a, f->lang), a->country,
			       a->postbox != NULL ? a->postbox : "");
	f->count++;
	return 0;
}

static int run_find(struct run *r, char **error_r)
{
	const char *const *words = mailcmd_words(r->cmd);
	const char *body[] = {"mailcmd.find-intro", NULL, NULL};
	struct find_walk f = {words, r->lang, g_string_new(""), 0, 0};
	struct reply_args a = {0};
	char count[16];
	int ret;

	if (words[0] == NULL) {
		g_string_free(f.lines, TRUE);
		return refuse(r, "mailcmd.refused-malformed", "FIND", error_r);
	}
	ret = directory_each(r->txn, find_one, &f, error_r);
	if (ret >= 0) {
		ret = IMI_OK;
		if (f.more)
			body[1] = "mailcmd.find-more";
		g_snprintf(count, sizeof(count), "%u", f.count);
		a.count = count;
		ret = reply(r, body, &a, f.lines->str, NULL, NULL, error_r);
		if (ret == IMI_OK)
			ret = audit(r, "mailcmd.find", count, error_r);
		r->out->reason = g_strdup_printf("FIND answered (%u)", f.count);
	}
	g_string_free(f.lines, TRUE);
	return ret;
}

/* ---- coordinators ---- */

/* The authority named by the command (first word, or "id:"/"authority:"),
 * of the coordinator's country; else a refusal was sent (*refused_r). */
static int target_authority(struct run *r, const char *id, struct authority **a_r,
			    int *refused_r, char **error_r)
{
	int ret;

	*refused_r = 1;
	if (id == NULL)
		return refuse(r, "mailcmd.refused-malformed", "authority", error_r);
	ret = store_authority_get(r->txn, id, a_r, NULL);
	if (ret == IMI_NOTFOUND || ret == IMI_INVALID || (ret == IMI_OK && (*a_r)->disabled &&
						r->cmd->verb != MAILCMD_AUTHORITY_UPDATE)) {
		authority_free(a_r);
		return refuse(r, "mailcmd.refused-unknown", id, error_r);
	}
	if (ret != IMI_OK)
		return store_authority_get(r->txn, id, a_r, error_r);
	if (strcmp((*a_r)->country, r->authority->country) != 0) {
		authority_free(a_r);
		return refuse(r, "mailcmd.refused-country", id, error_r);
	}
	*refused_r = 0;
	return IMI_OK;
}

static const char *first_word_or(struct run *r, const char *key)
{
	const char *const *w = mailcmd_words(r->cmd);

	return w[0] != NULL ? w[0] : mailcmd_value(r->cmd, key);
}

/* "on"/"yes"/"1" and "off"/"no"/"0"; -1 otherwise. */
static int on_off(const char *v)
{
	if (v == NULL)
		return -1;
	if (g_ascii_strcasecmp(v, "on") == 0 || g_ascii_strcasecmp(v, "yes") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	if (g_ascii_strcasecmp(v, "off") == 0 || g_ascii_strcasecmp(v, "no") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	return -1;
}

static int run_authority_write(struct run *r, int create, char **error_r)
{
	const char **names = mailcmd_values(r->cmd, "name");
	const char **areas = mailcmd_values(r->cmd, "area");
	const char **domains = mailcmd_values(r->cmd, "domain");
	struct directory_change c = DIRECTORY_CHANGE_INIT;
	const char *id = create ? mailcmd_value(r->cmd, "id") : first_word_or(r, "id");
	const char *country = mailcmd_value(r->cmd, "country");
	struct authority *a = NULL;
	char *what = NULL;
	int ret = IMI_OK, refused = 0;

	c.language = mailcmd_value(r->cmd, "language");
	c.postbox = mailcmd_value(r->cmd, "postbox");
	c.names = names[0] != NULL ? names : NULL;
	c.areas = areas[0] != NULL ? areas : NULL;
	c.domains = domains[0] != NULL ? domains : NULL;
	/* The coordinator's country; another is refused, not ignored. */
	c.country = r->authority->country;
	if (country != NULL && g_ascii_strcasecmp(country, r->authority->country) != 0) {
		ret = refuse(r, "mailcmd.refused-country", country, error_r);
		goto out;
	}
	if (id == NULL) {
		ret = refuse(r, "mailcmd.refused-malformed", "id", error_r);
		goto out;
	}
	if (!create && ((ret = target_authority(r, id, &a, &refused, error_r)) != IMI_OK || refused))
		goto out;
	ret = directory_authority_write(r->txn, id, create, &c, r->user->id, error_r);
	if (ret == IMI_EXISTS) {
		g_free(*error_r);
		*error_r = g_strdup_printf("the id %s is taken", id);
		ret = IMI_INVALID;
	}
	if (ret == IMI_INVALID) {
		/* Checked before anything was written. */
		char *why = *error_r;

		*error_r = NULL;
		ret = refuse(r, "mailcmd.refused-malformed", why, error_r);
		g_free(why);
		goto out;
	}
	if (ret != IMI_OK)
		goto out;
	what = g_strdup_printf("%s %s", create ? "added" : "updated", id);
	ret = done(r, what, error_r);
out:
	authority_free(&a);
	g_free(what);
	g_free(names);
	g_free(areas);
	g_free(domains);
	return ret;
}

static int run_authority_flag(struct run *r, char **error_r)
{
	struct directory_change c = DIRECTORY_CHANGE_INIT;
	const char *const *w = mailcmd_words(r->cmd);
	const char *id = first_word_or(r, "authority");
	struct authority *a = NULL;
	char *what = NULL;
	int ret, refused;

	switch (r->cmd->verb) {
	case MAILCMD_ALERTS_GRANT:
		c.alerts = 1;
		break;
	case MAILCMD_ALERTS_REVOKE:
		c.alerts = 0;
		break;
	default: /* SPF-ALIGNED id on|off */
		c.spf_aligned = on_off(w[0] != NULL ? w[1] : mailcmd_value(r->cmd, "spf-aligned"));
		if (c.spf_aligned < 0)
			return refuse(r, "mailcmd.refused-malformed", "on|off", error_r);
		break;
	}
	if ((ret = target_authority(r, id, &a, &refused, error_r)) != IMI_OK || refused)
		goto out;
	if ((ret = directory_authority_write(r->txn, a->id, 0, &c, r->user->id, error_r)) !=
	    IMI_OK)
		goto out;
	what = g_strdup_printf("%s %s", a->id,
			       r->cmd->verb == MAILCMD_SPF_ALIGNED
				       ? (c.spf_aligned ? "spf-aligned on" : "spf-aligned off")
				       : (c.alerts ? "alerts granted" : "alerts revoked"));
	ret = done(r, what, error_r);
out:
	authority_free(&a);
	g_free(what);
	return ret;
}

static int run_authority_disable(struct run *r, char **error_r)
{
	struct authority *a = NULL;
	char *what;
	int ret, refused;

	if ((ret = target_authority(r, first_word_or(r, "id"), &a, &refused, error_r)) != IMI_OK ||
	    refused)
		return ret;
	if (strcmp(a->id, r->authority->id) == 0) {
		authority_free(&a);
		return refuse(r, "mailcmd.refused-malformed",
			      "a coordinator cannot disable their own authority", error_r);
	}
	ret = directory_authority_disable(r->txn, a->id, r->user->id, error_r);
	what = g_strdup_printf("disabled %s", a->id);
	if (ret == IMI_OK)
		ret = done(r, what, error_r);
	g_free(what);
	authority_free(&a);
	return ret;
}

static int run_user_add(struct run *r, char **error_r)
{
	const char **roles = mailcmd_values(r->cmd, "role");
	struct directory_user_new in = {
		mailcmd_value(r->cmd, "email"), mailcmd_value(r->cmd, "authority"),
		roles, mailcmd_value(r->cmd, "name"), NULL,
	};
	struct authority *a = NULL;
	char *what = NULL;
	int ret, refused;

	if (in.email == NULL && mailcmd_words(r->cmd)[0] != NULL)
		in.email = mailcmd_words(r->cmd)[0];
	if ((ret = target_authority(r, in.authority, &a, &refused, error_r)) != IMI_OK || refused)
		goto out;
	ret = directory_user_add(r->txn, &in, r->user->id, error_r);
	if (ret == IMI_EXISTS || ret == IMI_INVALID) {
		char *why = ret == IMI_EXISTS ? g_strdup_printf("%s is already registered",
								in.email)
					      : g_strdup(*error_r);

		g_free(*error_r);
		*error_r = NULL;
		ret = refuse(r, "mailcmd.refused-malformed", why, error_r);
		g_free(why);
		goto out;
	}
	if (ret != IMI_OK)
		goto out;
	what = g_strdup_printf("added %s to %s", in.email, a->id);
	ret = done(r, what, error_r);
out:
	authority_free(&a);
	g_free(what);
	g_free(roles);
	return ret;
}

static int run_user_disable(struct run *r, char **error_r)
{
	const char *who = first_word_or(r, "email");
	struct user *u = NULL;
	struct authority *a = NULL;
	char *email, *what;
	int ret, refused;

	if (who == NULL)
		return refuse(r, "mailcmd.refused-malformed", "email", error_r);
	email = imi_email_normalize(who);
	ret = store_user_get_by_email(r->txn, email, &u, NULL);
	g_free(email);
	if (ret != IMI_OK) {
		if (ret != IMI_NOTFOUND && ret != IMI_INVALID)
			return store_user_get_by_email(r->txn, who, &u, error_r);
		return refuse(r, "mailcmd.refused-unknown", who, error_r);
	}
	if ((ret = target_authority(r, u->authority, &a, &refused, error_r)) != IMI_OK ||
	    refused) {
		user_free(&u);
		return ret;
	}
	ret = directory_user_disable(r->txn, u->email, r->user->id, error_r);
	what = g_strdup_printf("disabled %s", u->email);
	if (ret == IMI_OK)
		ret = done(r, what, error_r);
	g_free(what);
	authority_free(&a);
	user_free(&u);
	return ret;
}

struct held_walk {
	struct run *r;
	GString *lines;
	unsigned count;
};

static int held_one(struct store_txn *txn, const struct held_info *h, void *ctx)
{
	struct held_walk *w = ctx;
	char *country = held_country(txn, h->seq);
	char *day;

	if (g_strcmp0(country, w->r->authority->country) == 0) {
		day = case_day(h->received);
		g_string_append_printf(w->lines, "%" G_GUINT64_FORMAT "  %s  <%s>  %s\n", h->seq,
				       day, h->message_id, h->reason);
		g_free(day);
		w->count++;
	}
	g_free(country);
	return w->count >= MAILCMD_MAX_HELD;
}

static int run_held(struct run *r, char **error_r)
{
	const char *arg = first_word_or(r, "number");
	char *end = NULL, *country, *what;
	uint64_t seq;
	int ret;

	if (r->cmd->verb == MAILCMD_HELD_LIST) {
		const char *body[] = {"mailcmd.held-intro", NULL};
		struct held_walk w = {r, g_string_new(""), 0};
		struct reply_args a = {0};
		char count[16];

		ret = held_each(r->txn, held_one, &w, error_r);
		g_snprintf(count, sizeof(count), "%u", w.count);
		a.count = count;
		if (ret == IMI_OK)
			ret = reply(r, body, &a, w.lines->str, NULL, NULL, error_r);
		if (ret == IMI_OK)
			ret = audit(r, "mailcmd.held", count, error_r);
		r->out->reason = g_strdup_printf("HELD LIST answered (%u)", w.count);
		g_string_free(w.lines, TRUE);
		return ret;
	}
	seq = arg != NULL ? g_ascii_strtoull(arg, &end, 10) : 0;
	if (arg == NULL || end == NULL || *end != '\0' || seq == 0)
		return refuse(r, "mailcmd.refused-malformed", arg != NULL ? arg : "number", error_r);
	country = held_country(r->txn, seq);
	if (country == NULL || strcmp(country, r->authority->country) != 0) {
		ret = country == NULL ? refuse(r, "mailcmd.refused-unknown", arg, error_r)
				      : refuse(r, "mailcmd.refused-country", arg, error_r);
		g_free(country);
		return ret;
	}
	g_free(country);
	if (r->cmd->verb == MAILCMD_HELD_DISCARD) {
		/* The key is destroyed with the transaction; copies of it in
		 * old log files go with the next log purge. */
		ret = held_discard(r->txn, seq, r->user->id, error_r);
		what = g_strdup_printf("discarded %s", arg);
		if (ret == IMI_OK)
			ret = done(r, what, error_r);
		g_free(what);
		return ret;
	}
	if ((ret = held_release_schedule(r->txn, seq, error_r)) != IMI_OK)
		return ret;
	{
		const char *body[] = {"mailcmd.release-scheduled", NULL};
		struct reply_args a = {0};

		a.reason = arg;
		r->out->applied = 1;
		r->out->reason = g_strdup_printf("HELD RELEASE %s scheduled", arg);
		if ((ret = reply(r, body, &a, NULL, NULL, NULL, error_r)) == IMI_OK)
			ret = audit(r, "mailcmd.done", arg, error_r);
	}
	return ret;
}

/* ---- dispatch ---- */

static int run_open(struct run *r, struct store_txn *txn, struct request_env *env,
		    const struct mailcmd *cmd, const struct user *user,
		    const char *in_reply_to, struct mailcmd_outcome *out, char **error_r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	memset(out, 0, sizeof(*out));
	r->txn = txn;
	r->env = env;
	r->cmd = cmd;
	r->user = user;
	r->in_reply_to = in_reply_to;
	r->out = out;
	if ((ret = store_authority_get(txn, user->authority, &r->authority, error_r)) != IMI_OK)
		return ret;
	r->lang = case_language(env, r->authority);
	return IMI_OK;
}

int mailcmd_run(struct store_txn *txn, struct request_env *env, const struct mailcmd *cmd,
		const struct user *user, const char *in_reply_to,
		struct mailcmd_outcome *out, char **error_r)
{
	struct run r;
	int ret;

	if ((ret = run_open(&r, txn, env, cmd, user, in_reply_to, out, error_r)) != IMI_OK)
		return ret;
	if (cmd->verb == MAILCMD_MALFORMED) {
		ret = refuse(&r, "mailcmd.refused-malformed", mailcmd_name(cmd), error_r);
		goto out;
	}
	/* Coordinators act on their own country only (checked per target). */
	if (mailcmd_for_coordinators(cmd->verb) && !user_has_role(user, "coordinator")) {
		ret = refuse(&r, "mailcmd.refused-role", "coordinator", error_r);
		goto out;
	}
	switch (cmd->verb) {
	case MAILCMD_HELP:
		ret = run_help(&r, error_r);
		break;
	case MAILCMD_STATUS:
		ret = run_status(&r, error_r);
		break;
	case MAILCMD_FIND:
		ret = run_find(&r, error_r);
		break;
	case MAILCMD_AUTHORITY_ADD:
	case MAILCMD_AUTHORITY_UPDATE:
		ret = run_authority_write(&r, cmd->verb == MAILCMD_AUTHORITY_ADD, error_r);
		break;
	case MAILCMD_AUTHORITY_DISABLE:
		ret = run_authority_disable(&r, error_r);
		break;
	case MAILCMD_USER_ADD:
		ret = run_user_add(&r, error_r);
		break;
	case MAILCMD_USER_DISABLE:
		ret = run_user_disable(&r, error_r);
		break;
	case MAILCMD_ALERTS_GRANT:
	case MAILCMD_ALERTS_REVOKE:
	case MAILCMD_SPF_ALIGNED:
		ret = run_authority_flag(&r, error_r);
		break;
	case MAILCMD_HELD_LIST:
	case MAILCMD_HELD_RELEASE:
	case MAILCMD_HELD_DISCARD:
		ret = run_held(&r, error_r);
		break;
	default:
		ret = imi_fail(error_r, IMI_INVALID, "not a command");
		break;
	}
out:
	authority_free(&r.authority);
	return ret;
}

int mailcmd_inbound(struct store_txn *txn, struct request_env *env,
		    const struct parsed_message *msg, const struct user *user,
		    struct mailcmd_outcome *out, char **error_r)
{
	struct mailcmd *cmd = NULL;
	char *text = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	/* Quoted history and signature are no arguments. */
	if (reply_trim_message(msg, REPLY_TRIM_FULL, &text, NULL) != IMI_OK)
		text = g_strdup(parsed_message_text(msg, NULL));
	mailcmd_parse(parsed_message_subject(msg), text, &cmd);
	if (cmd->verb == MAILCMD_NONE)
		ret = IMI_NOTFOUND;
	else
		ret = mailcmd_run(txn, env, cmd, user, parsed_message_id(msg), out, error_r);
	mailcmd_free(&cmd);
	g_free(text);
	return ret;
}

/* ---- the filled-in request form ---- */

int mailcmd_form_is(struct store_txn *txn, const char *case_id)
{
	JsonObject *c = NULL;
	int is;

	if (request_peek(txn, case_id, &c, NULL) != IMI_OK)
		return 0;
	is = g_strcmp0(case_str(c, "kind"), "request-form") == 0;
	json_object_unref(c);
	return is;
}

/* The value after "label:" on the first line that has one (quote marks
 * and blanks before it ignored), or NULL (g_free). */
static char *form_field(const char *text, const char *label)
{
	char **lines = g_strsplit(text != NULL ? text : "", "\n", MAILCMD_MAX_LINES * 10 + 1);
	size_t n = strlen(label);
	char *found = NULL;

	for (unsigned i = 0; lines[i] != NULL && found == NULL; i++) {
		const char *p = lines[i];

		while (*p == '>' || *p == ' ' || *p == '\t')
			p++;
		if (g_ascii_strncasecmp(p, label, n) != 0 || p[n] != ':')
			continue;
		found = g_strstrip(g_strndup(p + n + 1, MAILCMD_MAX_LINE));
		if (*found == '\0') {
			g_free(found);
			found = NULL;
		}
	}
	g_strfreev(lines);
	return found;
}

/* In the new text first, then anywhere in the message (filled in inside
 * the quoted form). */
static char *form_value(const char *new_text, const char *full, const char *label)
{
	char *v = form_field(new_text, label);

	return v != NULL ? v : form_field(full, label);
}

int mailcmd_form_reply(struct store_txn *txn, struct request_env *env, const char *case_id,
		       const struct parsed_message *msg, const struct user *user,
		       struct mailcmd_outcome *out, char **error_r)
{
	struct mailcmd *cmd = NULL;
	struct run r;
	JsonObject *c = NULL;
	struct qset *q = NULL;
	char *new_text = NULL, *to = NULL, *about = NULL, *deadline = NULL, *created = NULL;
	char *key_id;
	const char *full = parsed_message_text(msg, NULL);
	int ret;

	mailcmd_parse("HELP", NULL, &cmd); /* replies name the command HELP */
	if ((ret = run_open(&r, txn, env, cmd, user, parsed_message_id(msg), out, error_r)) !=
	    IMI_OK)
		goto out;
	if ((ret = request_get(txn, case_id, STORE_GET_RMW, &c, error_r)) != IMI_OK ||
	    (ret = qset_store_get(txn, case_str(c, "qset"), &q, NULL)) != IMI_OK) {
		if (ret == IMI_NOTFOUND && c != NULL) { /* the set file went away */
			ret = set_get(&r, case_str(c, "qset"), &q, error_r);
		}
		if (ret != IMI_OK)
			goto out;
	}
	if (g_strcmp0(case_str(c, "state"), "draft") != 0) {
		const char *body[] = {"mailcmd.form-used", NULL};
		struct reply_args a = {0};

		a.case_id = case_str(c, "request");
		out->reason = g_strdup("request form already used");
		ret = reply(&r, body, &a, NULL, NULL, NULL, error_r);
		if (ret == IMI_OK)
			ret = audit(&r, "mailcmd.refused", "form-used", error_r);
		goto out;
	}
	if (!user_has_role(user, "handler") ||
	    g_strcmp0(case_str(c, "requester"), user->authority) != 0) {
		ret = refuse(&r, "mailcmd.refused-role", "handler", error_r);
		goto out;
	}
	if (reply_trim_message(msg, REPLY_TRIM_FULL, &new_text, NULL) != IMI_OK)
		new_text = g_strdup("");
	to = form_value(new_text, full, "To authority");
	about = form_value(new_text, full, "About");
	deadline = form_value(new_text, full, "Deadline");
	if (to == NULL && case_str(c, "responder") != NULL)
		to = g_strdup(case_str(c, "responder"));
	if (to != NULL) {
		char *l = g_ascii_strdown(to, -1);
		g_free(to);
		to = l;
	}
	{
		struct request_new in = {user->authority, to != NULL ? to : "", case_str(c, "qset"),
					 about, deadline, user->email};
		char *why = NULL;

		if (to == NULL)
			why = g_strdup("the line 'To authority:' names no authority");
		else if (about == NULL)
			why = g_strdup("the line 'About:' is empty");
		else {
			ret = request_create(txn, env, &in, &created, error_r);
			if (ret == IMI_INVALID || ret == IMI_NOTFOUND) {
				why = *error_r;
				*error_r = NULL;
				ret = IMI_OK;
			} else if (ret != IMI_OK) {
				goto out;
			}
		}
		if (why != NULL) {
			/* Nothing created: the same form again, with what was wrong. */
			out->reason = g_strdup("request form incomplete: the sender was told");
			ret = form_mail(&r, c, q, "mailcmd.form-refused", why, error_r);
			if (ret == IMI_OK)
				ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
			if (ret == IMI_OK)
				ret = audit(&r, "mailcmd.refused", "form-incomplete", error_r);
			g_free(why);
			goto out;
		}
	}
	/* The form is done: earlier incomplete replies were sealed with its
	 * key, which goes now (the request has its own). */
	key_id = case_key_id(case_id);
	ret = store_key_destroy(txn, key_id, error_r);
	g_free(key_id);
	if (ret != IMI_OK)
		goto out;
	json_object_set_string_member(c, "state", "used");
	json_object_set_string_member(c, "retention", "deleted");
	json_object_set_string_member(c, "request", created);
	if ((ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r)) != IMI_OK)
		goto out;
	ret = store_audit(txn, user->id, created, "mailcmd.form-used", case_id, error_r);
	out->applied = 1;
	out->case_id = g_strdup(created);
	out->reason = g_strdup_printf("request %s created from form %s", created, case_id);
out:
	if (c != NULL)
		json_object_unref(c);
	qset_free(&q);
	authority_free(&r.authority);
	mailcmd_free(&cmd);
	g_free(new_text);
	g_free(to);
	g_free(about);
	g_free(deadline);
	g_free(created);
	return ret;
}

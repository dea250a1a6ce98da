/*
 * render.c: outgoing requests and notices with GMime 3.
 *
 * The text is built twice, once as plain text and once as HTML, from the
 * same catalog keys; catalog_format_html escapes both the catalog text and
 * every value, so only markup written here reaches the HTML part.
 */
#include "templates/render.h"

#include <gmime/gmime.h>
#include <string.h>

#include "templates/lang.h"

/* Actions a recipient can take by reply. */
struct render_action {
	const char *name;      /* as the caller names it */
	const char *key;       /* catalog key of its label */
	const char *verb;      /* the subject word the parser recognizes */
};

static const struct render_action actions[] = {
	{"accept", "request.action.accept", "ACCEPT"},
	{"withdraw", "request.action.withdraw", "WITHDRAW"},
	{"forward", "request.action.forward", "FORWARD"},
};

#define RENDER_RULE "------------------------------------------------------------"

static void render_gmime_init(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

char *render_header_text(const char *text, size_t max)
{
	char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *out = g_string_sized_new(strlen(valid));
	const char *p;

	for (p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* Control characters (CR, LF, TAB, NUL, C1, line and paragraph
		 * separators) become a space: none may reach a header. */
		if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029 ||
		    g_unichar_isspace(c))
			c = ' ';
		if (c == ' ' && (out->len == 0 || out->str[out->len - 1] == ' '))
			continue;
		if (out->len + 6 > max)
			break;
		g_string_append_unichar(out, c);
	}
	while (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	g_free(valid);
	return g_string_free(out, FALSE);
}

/* Body text from another party: valid UTF-8, LF line ends, no control
 * characters but LF and TAB, within the bound. */
static char *render_body_text(const char *text)
{
	char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *out = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p != '\0' && out->len < RENDER_MAX_BODY_TEXT;
	     p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '\r')
			continue;
		if (c != '\n' && c != '\t' && g_unichar_iscntrl(c))
			c = ' ';
		g_string_append_unichar(out, c);
	}
	g_free(valid);
	return g_string_free(out, FALSE);
}

static int render_case_id_valid(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(id[i]) && id[i] != '-')
			return 0;
	return 1;
}

static int render_msgid_valid(const char *id)
{
	const char *at;

	if (id == NULL || *id == '\0' || strlen(id) > 250 ||
	    (at = strchr(id, '@')) == NULL || at == id || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (const char *p = id; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 127 || strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	return 1;
}

char *render_case_tag(const char *case_id)
{
	return g_strdup_printf("[%s]", case_id);
}

/* The subject with the tag exactly once: a translation that wrote
 * "[%{case}]" would otherwise give "[[IMI-...]]", and one without %{case}
 * gets the tag appended.  Takes subject (already header-clean). */
static char *render_subject_tag(char *subject, const char *tag)
{
	char *doubled = g_strdup_printf("[%s]", tag), *out;
	GString *fixed = g_string_new(NULL);
	const char *p = subject, *at;

	while ((at = strstr(p, doubled)) != NULL) {
		g_string_append_len(fixed, p, at - p);
		g_string_append(fixed, tag);
		p = at + strlen(doubled);
	}
	g_string_append(fixed, p);
	g_free(doubled);
	g_free(subject);
	if (strstr(fixed->str, tag) != NULL)
		return g_string_free(fixed, FALSE);
	out = g_strdup_printf("%s %s", fixed->str, tag);
	g_string_free(fixed, TRUE);
	return out;
}

static int render_check_envelope(const struct render_envelope *env,
				 char **error_r)
{
	if (!imi_email_valid(env->from_address))
		return imi_fail(error_r, IMI_INVALID,
				"render: the From address '%s' is not a plain address",
				env->from_address != NULL ? env->from_address : "");
	if (!imi_email_valid(env->to_address))
		return imi_fail(error_r, IMI_INVALID,
				"render: the recipient address is missing or not a "
				"plain address (one addr-spec, no name, no list)");
	if (env->reply_to != NULL && !imi_email_valid(env->reply_to))
		return imi_fail(error_r, IMI_INVALID,
				"render: the Reply-To address is not a plain address");
	if (!render_msgid_valid(env->message_id))
		return imi_fail(error_r, IMI_INVALID,
				"render: Message-ID missing or malformed (want "
				"local@domain without <>)");
	if (env->in_reply_to != NULL && !render_msgid_valid(env->in_reply_to))
		return imi_fail(error_r, IMI_INVALID,
				"render: In-Reply-To is not a Message-ID");
	if (env->service_domain == NULL || *env->service_domain == '\0' ||
	    strpbrk(env->service_domain, " \t\r\n") != NULL)
		return imi_fail(error_r, IMI_INVALID,
				"render: the service domain is missing or malformed");
	return IMI_OK;
}

/* A text part, UTF-8; quoted-printable (or base64) when 7 bits will not
 * do, and also when a line starts with "--": an encoded part can then
 * never contain a line that looks like a boundary. */
static GMimeObject *render_text_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *stream;
	GMimeDataWrapper *content;
	GMimeContentEncoding enc;

	/* Not g_mime_text_part_set_text: it converts to the "best" charset,
	 * Latin-1 for most of Europe.  The text stays UTF-8. */
	stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	content = g_mime_data_wrapper_new_with_stream(stream,
						      GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(part), content);
	g_object_unref(content);
	g_object_unref(stream);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset",
						 "utf-8");
	enc = g_mime_part_get_best_content_encoding(GMIME_PART(part),
						    GMIME_ENCODING_CONSTRAINT_7BIT);
	if ((enc == GMIME_CONTENT_ENCODING_7BIT ||
	     enc == GMIME_CONTENT_ENCODING_DEFAULT) &&
	    (g_str_has_prefix(text, "--") || strstr(text, "\n--") != NULL))
		enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	g_mime_part_set_content_encoding(GMIME_PART(part), enc);
	return GMIME_OBJECT(part);
}

/* Address header lines kept for the senders and recipients that come
 * back (the service's From, a party's To): a line depends only on its
 * field, name and address (the format options are always the same), and
 * making one is a third of a notice's header (the address through libidn2,
 * the name through the RFC 2047 encoder).  Bounded; emptied when full. */
#define RENDER_KEPT_MAX 256             /* lines */
#define RENDER_KEPT_KEY_MAX 2048        /* bytes of field, name and address */
static GMutex render_kept_lock;
static GHashTable *render_kept;         /* "field\n=name\naddr" -> line */

void render_forget(void)
{
	g_mutex_lock(&render_kept_lock);
	g_clear_pointer(&render_kept, g_hash_table_unref);
	g_mutex_unlock(&render_kept_lock);
}

/* "Name <addr>" or "addr", the name RFC 2047-encoded and quoted as
 * needed, folded as GMime folds an address header.  keep: the line is
 * kept for the next use of the same field, name and address (not for a
 * Reply-To, whose token makes every address new). */
static void render_address_header(GString *out, GMimeFormatOptions *opts,
				  const char *field, const char *name, const char *addr,
				  int keep)
{
	InternetAddressList *list;
	InternetAddress *ia;
	GString *line;
	char *key = NULL;
	const char *kept;

	if (keep) {
		key = g_strconcat(field, "\n", name != NULL ? "=" : "-", name != NULL ? name : "",
				  "\n", addr, NULL);
		if (strlen(key) > RENDER_KEPT_KEY_MAX)
			g_clear_pointer(&key, g_free);
	}
	if (key != NULL) {
		g_mutex_lock(&render_kept_lock);
		kept = render_kept != NULL ? g_hash_table_lookup(render_kept, key) : NULL;
		if (kept != NULL)
			g_string_append(out, kept);
		g_mutex_unlock(&render_kept_lock);
		if (kept != NULL) {
			g_free(key);
			return;
		}
	}
	list = internet_address_list_new();
	ia = internet_address_mailbox_new(name, addr);
	/* The encoder folds by the length of the string it is given: the
	 * field on its own. */
	line = g_string_new(NULL);
	internet_address_list_add(list, ia);
	g_object_unref(ia);
	g_string_append_printf(line, "%s: ", field);
	internet_address_list_encode(list, opts, line);
	g_string_append_len(out, line->str, (gssize)line->len);
	g_object_unref(list);
	if (key == NULL) {
		g_string_free(line, TRUE);
		return;
	}
	g_mutex_lock(&render_kept_lock);
	if (render_kept == NULL)
		render_kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	else if (g_hash_table_size(render_kept) >= RENDER_KEPT_MAX)
		g_hash_table_remove_all(render_kept);
	g_hash_table_replace(render_kept, key, g_string_free(line, FALSE));
	g_mutex_unlock(&render_kept_lock);
}

/* Writes the message's header and serializes the body after it, with LF
 * line ends: the same header a GMimeMessage with these fields writes, at a
 * third of the cost of making one (the milter renders a notice for most
 * messages it takes). */
static int render_finish(const struct render_envelope *env,
			 const char *subject, GMimeObject *body,
			 char **message_r, size_t *len_r)
{
	GMimeFormatOptions *opts = g_mime_format_options_new();
	GMimeParserOptions *popts = g_mime_parser_options_get_default();
	GString *out = g_string_sized_new(4096);
	GDateTime *date;
	char *from_name, *to_name, *text, *field;

	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_UNIX);
	from_name = render_header_text(env->from_name, RENDER_MAX_HEADER_TEXT);
	to_name = render_header_text(env->to_name, RENDER_MAX_HEADER_TEXT);
	date = g_date_time_new_from_unix_utc(env->date != 0 ? env->date : imi_now());
	text = g_mime_utils_header_format_date(date);
	g_date_time_unref(date);
	g_string_append_printf(out, "Date: %s\n", text);
	g_free(text);
	render_address_header(out, opts, "From", *from_name != '\0' ? from_name : NULL,
			      env->from_address, 1);
	if (env->reply_to != NULL)
		render_address_header(out, opts, "Reply-To", NULL, env->reply_to, 0);
	text = g_mime_utils_header_encode_text(opts, subject, "utf-8");
	field = g_strdup_printf("Subject: %s", text);
	g_free(text);
	text = g_mime_utils_unstructured_header_fold(popts, opts, field);
	g_string_append(out, text);
	g_free(text);
	g_free(field);
	render_address_header(out, opts, "To", *to_name != '\0' ? to_name : NULL,
			      env->to_address, 1);
	g_string_append_printf(out, "Message-Id: <%s>\n", env->message_id);
	if (env->in_reply_to != NULL)
		g_string_append_printf(out, "In-Reply-To: <%s>\nReferences: <%s>\n",
				       env->in_reply_to, env->in_reply_to);
	g_string_append_printf(out, "Auto-Submitted: auto-generated\n"
			       "X-Auto-Response-Suppress: All\n"
			       "X-IMI-Loop: %s\n"
			       "MIME-Version: 1.0\n", env->service_domain);
	text = g_mime_object_to_string(body, opts);
	g_string_append(out, text);
	g_free(text);
	g_mime_format_options_free(opts);
	g_free(from_name);
	g_free(to_name);
	*len_r = out->len;
	*message_r = g_string_free(out, FALSE);
	return IMI_OK;
}

/* "(oui / non)" from the first yes and no words of the language. */
static char *render_yesno_hint(const struct catalog *catalog, const char *lang)
{
	const char *const *yes = catalog_words_raw(catalog, lang, "yes");
	const char *const *no = catalog_words_raw(catalog, lang, "no");

	if (yes[0] == NULL || no[0] == NULL) {
		yes = catalog_words_raw(catalog, "en", "yes");
		no = catalog_words_raw(catalog, "en", "no");
	}
	return g_strdup_printf("(%s / %s)", yes[0] != NULL ? yes[0] : "yes",
			       no[0] != NULL ? no[0] : "no");
}

char *render_question_line(const struct qset_question *q,
			   const struct catalog *catalog, const char *lang)
{
	const char *text = qset_question_text(q, lang);
	char *hint, *line;

	switch (qset_question_type(q)) {
	case QSET_YESNO:
	case QSET_CHECK:
		hint = render_yesno_hint(catalog, lang);
		line = g_strdup_printf("%s %s", text, hint);
		g_free(hint);
		return line;
	default:
		return g_strdup(text);
	}
}

/* Appends text to html escaped, line breaks as <br>. */
static void render_html_text(GString *html, const char *text)
{
	char *esc = catalog_html_escape(text);
	char **lines = g_strsplit(esc, "\n", -1);
	char *joined = g_strjoinv("<br>\n", lines);

	g_string_append(html, joined);
	g_free(joined);
	g_strfreev(lines);
	g_free(esc);
}

static void render_paragraph(GString *plain, GString *html, const char *text,
			     const char *html_text)
{
	g_string_append_printf(plain, "%s\n\n", text);
	g_string_append(html, "<p>");
	if (html_text != NULL) {
		/* Already escaped; keep its line breaks. */
		char **lines = g_strsplit(html_text, "\n", -1);
		char *joined = g_strjoinv("<br>\n", lines);
		g_string_append(html, joined);
		g_free(joined);
		g_strfreev(lines);
	} else {
		render_html_text(html, text);
	}
	g_string_append(html, "</p>\n");
}

static void render_key(GString *plain, GString *html,
		       const struct catalog *catalog, const char *lang,
		       const char *key, const struct catalog_arg *args)
{
	char *p = catalog_format(catalog, lang, key, args);
	char *h = catalog_format_html(catalog, lang, key, args);

	render_paragraph(plain, html, p, h);
	g_free(p);
	g_free(h);
}

static void render_html_open(GString *html, const char *lang,
			     const char *subject)
{
	char *esc = catalog_html_escape(subject);

	g_string_append_printf(html,
			       "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
			       "<meta charset=\"utf-8\">\n<title>%s</title>\n"
			       "</head>\n<body>\n",
			       lang, esc);
	g_free(esc);
}

/* RFC 3986 percent-encoding for the query part of a mailto: URI. */
static char *render_mailto(const char *address, const char *subject)
{
	char *enc = g_uri_escape_string(subject, NULL, FALSE);
	char *uri = g_strdup_printf("mailto:%s?subject=%s", address, enc);

	g_free(enc);
	return uri;
}

/* Stands for the link while the HTML text is escaped; a control
 * character, so no value (made header-clean) and no catalog text has it. */
#define RENDER_LINK_MARK "\x1A"

static int render_actions(const struct render_request *in, const char *lang,
			  const char *tag, const struct catalog_arg *base_args,
			  GString *plain, GString *html, char **error_r)
{
	const char *reply = in->env.reply_to != NULL ? in->env.reply_to
						      : in->env.from_address;
	unsigned n_base = 0;
	int any = 0;

	while (base_args[n_base].name != NULL)
		n_base++;
	for (unsigned i = 0; in->actions != NULL && in->actions[i] != NULL; i++) {
		const struct render_action *a = NULL;
		const char *address = reply, *text;
		struct catalog_arg *args;
		char *subject, *uri, *uri_html, *address_html, *link;

		for (unsigned k = 0; k < G_N_ELEMENTS(actions); k++)
			if (strcmp(actions[k].name, in->actions[i]) == 0)
				a = &actions[k];
		if (a == NULL)
			return imi_fail(error_r, IMI_INVALID,
					"render: unknown action '%s' (accept, "
					"withdraw, forward)", in->actions[i]);
		if (in->action_addresses != NULL && in->action_addresses[i] != NULL)
			address = in->action_addresses[i];
		if (!imi_email_valid(address))
			return imi_fail(error_r, IMI_INVALID,
					"render: the address of action %s is not a "
					"plain address", a->name);
		if (!any) {
			g_string_append(plain, RENDER_RULE "\n");
			g_string_append(html, "<hr>\n<ul>\n");
			any = 1;
		}
		subject = g_strdup_printf("%s %s", a->verb, tag);
		uri = render_mailto(address, subject);
		uri_html = catalog_html_escape(uri);
		address_html = catalog_html_escape(address);
		text = catalog_get(in->catalog, lang, a->key);
		args = g_new0(struct catalog_arg, n_base + 2);
		memcpy(args, base_args, n_base * sizeof(*args));
		args[n_base].name = "action";
		if (text != NULL && strstr(text, "%{action}") != NULL) {
			/* "send an e-mail to %{action}": the link in the text. */
			char *p, *h, **pieces;

			args[n_base].value = uri;
			p = catalog_expand(text, args);
			args[n_base].value = RENDER_LINK_MARK;
			h = catalog_expand_html(text, args);
			link = g_strdup_printf("<a href=\"%s\">%s</a>", uri_html,
					       address_html);
			pieces = g_strsplit(h, RENDER_LINK_MARK, -1);
			g_free(h);
			h = g_strjoinv(link, pieces);
			g_strfreev(pieces);
			g_string_append_printf(plain, "%s\n\n", p);
			g_string_append_printf(html, "<li>%s</li>\n", h);
			g_free(p);
			g_free(h);
		} else {
			/* A bare label: the link under it (plain) or on it. */
			char *label = catalog_format(in->catalog, lang, a->key, args);
			char *label_html = catalog_format_html(in->catalog, lang, a->key, args);

			g_string_append_printf(plain, "%s:\n  %s\n\n", label, uri);
			g_string_append_printf(html, "<li><a href=\"%s\">%s</a></li>\n",
					       uri_html, label_html);
			g_free(label);
			g_free(label_html);
			link = NULL;
		}
		g_free(link);
		g_free(args);
		g_free(subject);
		g_free(uri);
		g_free(uri_html);
		g_free(address_html);
	}
	if (any)
		g_string_append(html, "</ul>\n");
	return IMI_OK;
}

static void render_questions(const struct render_request *in, const char *lang,
			     GString *plain, GString *html)
{
	const struct qset *qset = in->qset;

	g_string_append(html, "<div>\n");
	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);
		const char *code = qset_question_code(q);
		const char *help = qset_question_help(q, lang);
		char *line = render_question_line(q, in->catalog, lang);
		char *line_html = catalog_html_escape(line);

		g_string_append_printf(plain, "%s. %s\n", code, line);
		g_string_append_printf(html, "<p><b>%s.</b> %s<br>\n", code,
				       line_html);
		if (help != NULL) {
			char *help_html = catalog_html_escape(help);
			g_string_append_printf(plain, "    (%s)\n", help);
			g_string_append_printf(html, "<i>(%s)</i><br>\n", help_html);
			g_free(help_html);
		}
		for (unsigned c = 0; c < qset_choice_count(q); c++) {
			const char *label = qset_choice_label(q, c, lang);
			char *label_html = catalog_html_escape(label);

			g_string_append_printf(plain, "    - %s\n", label);
			g_string_append_printf(html, "&nbsp;&nbsp;&ndash; %s<br>\n",
					       label_html);
			g_free(label_html);
		}
		/* The empty answer line, then a blank line. */
		g_string_append_printf(plain, "%s: \n\n", code);
		g_string_append_printf(html, "%s: </p>\n", code);
		g_free(line);
		g_free(line_html);
	}
	g_string_append(html, "</div>\n");
}

int render_request(const struct render_request *in, char **message_r,
		   size_t *len_r, char **error_r)
{
	const char *lang = lang_index(in->language) >= 0 ? in->language : "en";
	GString *plain, *html;
	GMimeMultipart *alt;
	char *tag, *title, *authority, *country, *subject, *subject_clean;
	char *deadline;
	int ret;

	*message_r = NULL;
	*len_r = 0;
	render_gmime_init();
	if ((ret = render_check_envelope(&in->env, error_r)) != IMI_OK)
		return ret;
	if (!render_case_id_valid(in->case_id))
		return imi_fail(error_r, IMI_INVALID,
				"render: case id missing or malformed ([A-Za-z0-9-])");
	if (in->qset == NULL || in->catalog == NULL)
		return imi_fail(error_r, IMI_INVALID,
				"render: a request needs a question set and a catalog");

	tag = render_case_tag(in->case_id);
	title = render_header_text(in->title != NULL ? in->title
						     : qset_title(in->qset, lang),
				   RENDER_MAX_HEADER_TEXT);
	authority = render_header_text(in->authority, RENDER_MAX_HEADER_TEXT);
	country = render_header_text(in->country, RENDER_MAX_HEADER_TEXT);

	/* In a subject %{case} is the tag the parser looks for; a translation
	 * without it still gets the tag. */
	{
		const struct catalog_arg args[] = {
			{"case", tag}, {"title", title}, {"authority", authority},
			{"country", country}, {NULL, NULL},
		};
		subject = catalog_format(in->catalog, lang, "request.subject", args);
		subject_clean = render_header_text(subject, 4 * RENDER_MAX_HEADER_TEXT);
		g_free(subject);
		subject_clean = render_subject_tag(subject_clean, tag);
	}

	plain = g_string_new(NULL);
	html = g_string_new(NULL);
	render_html_open(html, lang, subject_clean);
	/* The deadline as the language writes a date; an unparsable one as
	 * given (header-clean). */
	deadline = lang_format_date(in->deadline, lang);
	if (deadline == NULL && in->deadline != NULL)
		deadline = render_header_text(in->deadline, RENDER_MAX_HEADER_TEXT);
	{
		const struct catalog_arg args[] = {
			{"case", in->case_id}, {"title", title},
			{"authority", authority}, {"country", country},
			{"date", deadline}, {NULL, NULL},
		};
		render_key(plain, html, in->catalog, lang, "request.intro", args);
		if (in->note != NULL && *in->note != '\0') {
			char *note = render_body_text(in->note);
			render_paragraph(plain, html, note, NULL);
			g_free(note);
		}
		render_key(plain, html, in->catalog, lang, "request.instructions",
			   args);
		if (in->deadline != NULL)
			render_key(plain, html, in->catalog, lang,
				   "request.deadline", args);
		render_key(plain, html, in->catalog, lang, "request.answer-here",
			   args);
		render_questions(in, lang, plain, html);
		ret = render_actions(in, lang, tag, args, plain, html, error_r);
		if (ret == IMI_OK)
			render_key(plain, html, in->catalog, lang,
				   "request.footer", args);
	}
	g_string_append(html, "</body>\n</html>\n");

	if (ret == IMI_OK) {
		alt = g_mime_multipart_new_with_subtype("alternative");
		GMimeObject *p = render_text_part("plain", plain->str);
		GMimeObject *h = render_text_part("html", html->str);
		g_mime_multipart_add(alt, p);
		g_mime_multipart_add(alt, h);
		g_object_unref(p);
		g_object_unref(h);
		ret = render_finish(&in->env, subject_clean, GMIME_OBJECT(alt),
				    message_r, len_r);
		g_object_unref(alt);
	}
	g_string_free(plain, TRUE);
	g_string_free(html, TRUE);
	g_free(tag);
	g_free(title);
	g_free(authority);
	g_free(country);
	g_free(deadline);
	g_free(subject_clean);
	return ret;
}

int render_notice(const struct render_notice *in, char **message_r,
		  size_t *len_r, char **error_r)
{
	const char *lang = lang_index(in->language) >= 0 ? in->language : "en";
	GPtrArray *args;
	GString *plain;
	GMimeObject *part;
	char *tag = NULL, *subject, *subject_clean;
	int ret;

	*message_r = NULL;
	*len_r = 0;
	render_gmime_init();
	if ((ret = render_check_envelope(&in->env, error_r)) != IMI_OK)
		return ret;
	if (in->catalog == NULL || in->subject_key == NULL)
		return imi_fail(error_r, IMI_INVALID,
				"render: a notice needs a catalog and a subject key");
	if (in->case_id != NULL && !render_case_id_valid(in->case_id))
		return imi_fail(error_r, IMI_INVALID,
				"render: case id malformed ([A-Za-z0-9-])");
	if (catalog_get(in->catalog, lang, in->subject_key) == NULL)
		return imi_fail(error_r, IMI_INVALID,
				"render: no catalog text for %s", in->subject_key);

	/* Subject arguments: header-safe copies, %{case} as the tag. */
	args = g_ptr_array_new_with_free_func(g_free);
	if (in->case_id != NULL)
		tag = render_case_tag(in->case_id);
	{
		unsigned n = 0;
		struct catalog_arg *hargs;

		for (const struct catalog_arg *a = in->args; a != NULL && a->name != NULL; a++)
			n++;
		hargs = g_new0(struct catalog_arg, n + 2);
		hargs[0].name = "case";
		hargs[0].value = tag != NULL ? tag : "";
		for (unsigned i = 0; i < n; i++) {
			char *v = render_header_text(in->args[i].value,
						     RENDER_MAX_HEADER_TEXT);
			g_ptr_array_add(args, v);
			hargs[i + 1].name = in->args[i].name;
			hargs[i + 1].value = v;
			if (strcmp(in->args[i].name, "case") == 0)
				hargs[i + 1].name = "";
		}
		subject = catalog_format(in->catalog, lang, in->subject_key, hargs);
		g_free(hargs);
	}
	subject_clean = render_header_text(subject, 4 * RENDER_MAX_HEADER_TEXT);
	g_free(subject);
	if (tag != NULL)
		subject_clean = render_subject_tag(subject_clean, tag);

	/* Body: the paragraphs, then the verbatim block.  Values keep their
	 * line breaks here (a list of problems), but no control characters. */
	plain = g_string_new(NULL);
	{
		unsigned n = 0;
		struct catalog_arg *bargs;
		GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);

		for (const struct catalog_arg *a = in->args; a != NULL && a->name != NULL; a++)
			n++;
		bargs = g_new0(struct catalog_arg, n + 3);
		bargs[0].name = "case";
		bargs[0].value = in->case_id;
		for (unsigned i = 0; i < n; i++) {
			char *v = render_body_text(in->args[i].value);
			g_ptr_array_add(vals, v);
			bargs[i + 1].name = strcmp(in->args[i].name, "case") == 0
						    ? "" : in->args[i].name;
			bargs[i + 1].value = v;
		}
		/* %{action} without a value of its own: the notice's reply
		 * address, the fresh token a confirmation goes to. */
		if (in->env.reply_to != NULL) {
			bargs[n + 1].name = "action";
			bargs[n + 1].value = in->env.reply_to;
		}
		for (unsigned i = 0; in->body_keys != NULL && in->body_keys[i] != NULL; i++) {
			char *t = catalog_format(in->catalog, lang, in->body_keys[i], bargs);
			g_string_append_printf(plain, "%s\n\n", t);
			g_free(t);
		}
		g_free(bargs);
		g_ptr_array_free(vals, TRUE);
	}
	if (in->body_text != NULL && *in->body_text != '\0') {
		char *t = render_body_text(in->body_text);
		g_string_append_printf(plain, "%s\n", t);
		g_free(t);
	}
	part = render_text_part("plain", plain->str);
	ret = render_finish(&in->env, subject_clean, part, message_r, len_r);
	g_object_unref(part);
	g_string_free(plain, TRUE);
	g_ptr_array_free(args, TRUE);
	g_free(tag);
	g_free(subject_clean);
	return ret;
}

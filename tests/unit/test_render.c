/*
 * test_render.c: requests and notices rendered in en/fr/de and read back
 * with GMime: headers, both parts, escaping, header injection.
 */
#include "testutil.h"

#include <gmime/gmime.h>
#include <unistd.h>

#include "templates/catalog.h"
#include "templates/qset.h"
#include "templates/render.h"

struct fixture {
	struct qset *qset;
	struct catalog *catalog;
};

static char *src_path(const char *rel)
{
	const char *top = g_getenv("IMI_SRC");
	return g_build_filename(top != NULL ? top : ".", rel, NULL);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL, *path;

	g_mime_init();
	path = src_path("tests/fixtures/sets/pq-general.ini");
	if (qset_load_file(path, &f->qset, &error) != IMI_OK)
		fail_msg("qset: %s", error);
	g_free(path);
	path = src_path("tests/fixtures/catalogs");
	if (catalog_open(path, &f->catalog, &error) != IMI_OK)
		fail_msg("catalog: %s", error);
	g_free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qset_free(&f->qset);
	catalog_close(&f->catalog);
	g_free(f);
	return 0;
}

static GMimeMessage *parse(const char *text, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		fail_msg("GMime cannot parse the rendered message");
	return msg;
}

/* The decoded text of the first part of the given subtype. */
static char *part_text(GMimeMessage *msg, const char *subtype)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);

	if (GMIME_IS_MULTIPART(body)) {
		GMimeMultipart *mp = GMIME_MULTIPART(body);
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
			GMimeObject *p = g_mime_multipart_get_part(mp, i);
			if (GMIME_IS_TEXT_PART(p) &&
			    g_mime_content_type_is_type(g_mime_object_get_content_type(p),
							"text", subtype))
				return g_mime_text_part_get_text(GMIME_TEXT_PART(p));
		}
		return NULL;
	}
	if (GMIME_IS_TEXT_PART(body) &&
	    g_mime_content_type_is_type(g_mime_object_get_content_type(body),
					"text", subtype))
		return g_mime_text_part_get_text(GMIME_TEXT_PART(body));
	return NULL;
}

static void base_request(struct fixture *f, struct render_request *in,
			 const char *lang)
{
	static const char *const acts[] = {"accept", "forward", NULL};
	static const char *const addrs[] = {NULL, "imi+fwd@imi.example.eu", NULL};

	memset(in, 0, sizeof(*in));
	in->env.from_address = "imi@imi.example.eu";
	in->env.from_name = "IMI mail service";
	in->env.to_address = "registry@ordre.example.fr";
	in->env.to_name = "Ordre des médecins";
	in->env.reply_to = "imi+tok123abc@imi.example.eu";
	in->env.message_id = "req.IMI-2026-000123.1@imi.example.eu";
	in->env.service_domain = "imi.example.eu";
	in->env.date = 1795000000;
	in->qset = f->qset;
	in->catalog = f->catalog;
	in->language = lang;
	in->case_id = "IMI-2026-000123";
	in->authority = "Landesärztekammer Hessen";
	in->country = "DE";
	in->deadline = "2026-12-31";
	in->actions = acts;
	in->action_addresses = addrs;
}

static void test_render_languages(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *lang;
		const char *subject_word; /* from that language's request.subject */
		const char *question;     /* Q1 text in that language */
		const char *yesno;        /* the hint */
	} cases[] = {
		{"en", "Information request", "Is the attached diploma authentic?", "(yes / no)"},
		{"fr", "Demande d'information", "Le diplôme joint est-il authentique ?", "(oui / non)"},
		{"de", "Auskunftsersuchen", "Ist das beigefügte Diplom echt?", "(ja / nein)"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct render_request in;
		char *msgtext = NULL, *error = NULL, *plain, *html, *want;
		size_t len;
		GMimeMessage *msg;
		InternetAddressList *list;
		const char *subject;

		base_request(f, &in, cases[i].lang);
		if (render_request(&in, &msgtext, &len, &error) != IMI_OK)
			fail_msg("%s: render: %s", cases[i].lang, error);
		if (memchr(msgtext, '\r', len) != NULL)
			fail_msg("%s: the message has CR; LF line ends wanted",
				 cases[i].lang);
		/* The French subject has accents, so the raw header is RFC 2047
		 * encoded; decoded, each has the tag. */
		if (strcmp(cases[i].lang, "fr") == 0 &&
		    strstr(msgtext, "=?UTF-8?") == NULL && strstr(msgtext, "=?utf-8?") == NULL)
			fail_msg("%s: raw Subject is not RFC 2047 encoded", cases[i].lang);
		msg = parse(msgtext, len);
		subject = g_mime_message_get_subject(msg);
		if (subject == NULL || strstr(subject, "[IMI-2026-000123]") == NULL ||
		    strstr(subject, cases[i].subject_word) == NULL)
			fail_msg("%s: subject: got \"%s\", want the tag and \"%s\"",
				 cases[i].lang, subject ? subject : "(null)",
				 cases[i].subject_word);
		list = g_mime_message_get_reply_to(msg);
		check_int("Reply-To count", internet_address_list_length(list), 1);
		check_str("Reply-To",
			  internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
				  internet_address_list_get_address(list, 0))),
			  "imi+tok123abc@imi.example.eu");
		check_str("Message-ID", g_mime_message_get_message_id(msg),
			  "req.IMI-2026-000123.1@imi.example.eu");
		check_str("Auto-Submitted",
			  g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted"),
			  "auto-generated");
		check_str("X-Auto-Response-Suppress",
			  g_mime_object_get_header(GMIME_OBJECT(msg),
						   "X-Auto-Response-Suppress"),
			  "All");
		check_str("X-IMI-Loop",
			  g_mime_object_get_header(GMIME_OBJECT(msg), "X-IMI-Loop"),
			  "imi.example.eu");
		check_int("multipart/alternative",
			  g_mime_content_type_is_type(
				  g_mime_object_get_content_type(
					  g_mime_message_get_mime_part(msg)),
				  "multipart", "alternative"), 1);
		plain = part_text(msg, "plain");
		html = part_text(msg, "html");
		if (plain == NULL || html == NULL)
			fail_msg("%s: text/plain %s, text/html %s", cases[i].lang,
				 plain ? "present" : "missing",
				 html ? "present" : "missing");
		want = g_strdup_printf("Q1. %s %s\nQ1: \n", cases[i].question,
				       cases[i].yesno);
		if (strstr(plain, want) == NULL)
			fail_msg("%s: plain part lacks \"%s\":\n%s", cases[i].lang,
				 want, plain);
		g_free(want);
		if (strstr(plain, "mailto:imi+tok123abc@imi.example.eu?subject="
				  "ACCEPT%20%5BIMI-2026-000123%5D") == NULL)
			fail_msg("%s: no ACCEPT mailto link in:\n%s", cases[i].lang, plain);
		if (strstr(plain, "mailto:imi+fwd@imi.example.eu?subject="
				  "FORWARD%20%5BIMI-2026-000123%5D") == NULL)
			fail_msg("%s: forward link with its own address missing", cases[i].lang);
		if (strstr(html, "href=\"mailto:imi+tok123abc@imi.example.eu?subject="
				 "ACCEPT%20%5BIMI-2026-000123%5D\"") == NULL)
			fail_msg("%s: no ACCEPT link in the HTML part", cases[i].lang);
		if (strstr(html, "src=") != NULL || strstr(html, "<link") != NULL ||
		    strstr(html, "<script") != NULL)
			fail_msg("%s: the HTML part refers to external resources", cases[i].lang);
		/* Choices are listed. */
		if (strstr(plain, "    - ") == NULL)
			fail_msg("%s: choices not listed", cases[i].lang);
		g_free(plain);
		g_free(html);
		g_object_unref(msg);
		g_free(msgtext);
	}
}

static void test_render_hostile(void **state)
{
	struct fixture *f = *state;
	struct render_request in;
	char *msgtext = NULL, *error = NULL, *plain, *html;
	size_t len;
	GMimeMessage *msg;
	InternetAddressList *to;

	base_request(f, &in, "en");
	in.authority = "<script>alert(1)</script> Smith & Sons";
	in.env.to_name = "Evil\r\nBcc: victim@example.org\r\nX-Injected: 1";
	in.note = "Please check <b>this</b> & that.\r\n--=-boundary\r\n"
		  "Content-Type: text/html\r\n\r\n<script>x()</script>";
	in.title = "Title\nBcc: other@example.org";
	if (render_request(&in, &msgtext, &len, &error) != IMI_OK)
		fail_msg("render: %s", error);
	msg = parse(msgtext, len);
	if (g_mime_object_get_header(GMIME_OBJECT(msg), "Bcc") != NULL ||
	    g_mime_object_get_header(GMIME_OBJECT(msg), "X-Injected") != NULL)
		fail_msg("a CR/LF in a name added a header:\n%s", msgtext);
	check_int("Bcc recipients",
		  internet_address_list_length(
			  g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC)), 0);
	to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
	check_int("To count", internet_address_list_length(to), 1);
	check_str("To address",
		  internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
			  internet_address_list_get_address(to, 0))),
		  "registry@ordre.example.fr");
	check_int("parts",
		  g_mime_multipart_get_count(GMIME_MULTIPART(g_mime_message_get_mime_part(msg))),
		  2);
	html = part_text(msg, "html");
	plain = part_text(msg, "plain");
	if (strstr(html, "<script>") != NULL)
		fail_msg("the HTML part has an unescaped <script>");
	if (strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; Smith &amp; Sons") == NULL)
		fail_msg("the authority is not escaped in HTML:\n%s", html);
	if (strstr(html, "&lt;b&gt;this&lt;/b&gt; &amp; that.") == NULL)
		fail_msg("the note is not escaped in HTML:\n%s", html);
	/* The plain part keeps the note's text, verbatim but without CR. */
	if (strstr(plain, "Please check <b>this</b> & that.\n--=-boundary\n") == NULL)
		fail_msg("the plain part lost the note:\n%s", plain);
	g_free(plain);
	g_free(html);
	g_object_unref(msg);
	g_free(msgtext);

	/* An address with a second recipient is refused, not rendered. */
	base_request(f, &in, "en");
	in.env.to_address = "a@example.org, b@example.org";
	check_int("two recipients", render_request(&in, &msgtext, &len, &error),
		  IMI_INVALID);
	g_free(error);
	error = NULL;
	base_request(f, &in, "en");
	in.env.reply_to = "imi+tok@imi.example.eu\r\nBcc: x@example.org";
	check_int("Reply-To with CRLF", render_request(&in, &msgtext, &len, &error),
		  IMI_INVALID);
	g_free(error);
	error = NULL;
	base_request(f, &in, "en");
	in.case_id = "IMI-1] [x";
	check_int("case id", render_request(&in, &msgtext, &len, &error), IMI_INVALID);
	g_free(error);
	error = NULL;
	base_request(f, &in, "en");
	{
		static const char *const bad[] = {"explode", NULL};
		in.actions = bad;
	}
	check_int("unknown action", render_request(&in, &msgtext, &len, &error),
		  IMI_INVALID);
	if (error == NULL || strstr(error, "explode") == NULL)
		fail_msg("unknown action error: got \"%s\"", error ? error : "(null)");
	g_free(error);
}

/* An action text that places the link itself with %{action}. */
static void test_render_action_placeholder(void **state)
{
	struct fixture *f = *state;
	char *dir = g_strdup("tests/tmp/render-act-XXXXXX"), *path, *error = NULL;
	char *msgtext = NULL, *plain, *html;
	struct catalog *cat = NULL;
	struct render_request in;
	GMimeMessage *msg;
	size_t len;

	g_mkdir_with_parents("tests/tmp", 0700);
	if (g_mkdtemp(dir) == NULL)
		fail_msg("cannot create %s", dir);
	path = g_build_filename(dir, "en.ini", NULL);
	g_file_set_contents(path,
			    "[Catalog]\nLanguage=en\nLanguageName=English\n"
			    "[Messages]\nrequest.subject=Request %{case}\n"
			    "request.action.accept=To accept <now> & later, write to %{action}.\n"
			    "[Words]\nyes=yes\nno=no\n", -1, NULL);
	if (catalog_open(dir, &cat, &error) != IMI_OK)
		fail_msg("%s", error);
	base_request(f, &in, "en");
	in.catalog = cat;
	if (render_request(&in, &msgtext, &len, &error) != IMI_OK)
		fail_msg("%s", error);
	msg = parse(msgtext, len);
	plain = part_text(msg, "plain");
	html = part_text(msg, "html");
	if (strstr(plain, "To accept <now> & later, write to mailto:imi+tok123abc@imi.example.eu"
			  "?subject=ACCEPT%20%5BIMI-2026-000123%5D.\n") == NULL)
		fail_msg("plain action text:\n%s", plain);
	if (strstr(html, "To accept &lt;now&gt; &amp; later, write to <a href=\"mailto:"
			 "imi+tok123abc@imi.example.eu?subject=ACCEPT%20%5BIMI-2026-000123%5D\">"
			 "imi+tok123abc@imi.example.eu</a>.") == NULL)
		fail_msg("html action text:\n%s", html);
	/* Keys the catalog lacks show as [key], visibly. */
	if (strstr(plain, "[request.footer]") == NULL)
		fail_msg("a missing key should show as [key]:\n%s", plain);
	g_free(plain);
	g_free(html);
	g_object_unref(msg);
	g_free(msgtext);
	catalog_close(&cat);
	unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* A name as a reader shows it: folding white space as one space. */
static char *unfolded(const char *name)
{
	GString *out = g_string_new(NULL);

	for (const char *p = name != NULL ? name : ""; *p != '\0'; p++) {
		if (g_ascii_isspace(*p)) {
			if (out->len > 0 && out->str[out->len - 1] != ' ')
				g_string_append_c(out, ' ');
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

/* The header is written without a GMimeMessage: names that need
 * encoding, quoting and folding read back as they were given, and no
 * header line is longer than 78 characters. */
static void test_render_header_names(void **state)
{
	struct fixture *f = *state;
	static const char *const body[] = {"confirm.understood", NULL};
	static const struct {
		const char *from_name, *to_name;
	} rows[] = {
		{"Ordre national des médecins — Conseil départemental de la Haute-Garonne et des "
		 "territoires associés", "Žilvinas Žemaitis"},
		{"Smith, \"Jr.\" (Registry)", "Ελληνική Αρχή"},
		{"", "a name; with: specials <and> @ signs"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct catalog_arg args[] = {{"questions", "Q1: yes"}, {NULL, NULL}};
		struct render_notice in = {
			.env = {
				.from_name = rows[i].from_name,
				.from_address = "imi@imi.example.eu",
				.to_name = rows[i].to_name,
				.to_address = "registry@ordre.example.fr",
				.reply_to = "imi+tok@imi.example.eu",
				.message_id = "confirm.2@imi.example.eu",
				.service_domain = "imi.example.eu",
				.date = 1795000000,
			},
			.catalog = f->catalog,
			.language = "el",
			.case_id = "IMI-2026-000124",
			.subject_key = "confirm.subject",
			.body_keys = body,
			.args = args,
		};
		char *msgtext = NULL, *error = NULL, **lines, *name;
		InternetAddressList *list;
		InternetAddressMailbox *mb;
		GMimeMessage *msg;
		size_t len;

		if (render_notice(&in, &msgtext, &len, &error) != IMI_OK)
			fail_msg("row %zu: render_notice: %s", i, error);
		lines = g_strsplit(msgtext, "\n", -1);
		for (unsigned l = 0; lines[l] != NULL && *lines[l] != '\0'; l++)
			if (strlen(lines[l]) > 78)
				fail_msg("row %zu: header line of %zu characters: %s", i,
					 strlen(lines[l]), lines[l]);
		g_strfreev(lines);
		msg = parse(msgtext, len);
		list = g_mime_message_get_from(msg);
		check_int("one From", internet_address_list_length(list), 1);
		mb = INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(list, 0));
		check_str("From address", internet_address_mailbox_get_addr(mb), "imi@imi.example.eu");
		name = unfolded(internet_address_get_name(INTERNET_ADDRESS(mb)));
		check_str("From name", name, rows[i].from_name);
		g_free(name);
		list = g_mime_message_get_to(msg);
		check_int("one To", internet_address_list_length(list), 1);
		mb = INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(list, 0));
		check_str("To address", internet_address_mailbox_get_addr(mb),
			  "registry@ordre.example.fr");
		name = unfolded(internet_address_get_name(INTERNET_ADDRESS(mb)));
		check_str("To name", name, rows[i].to_name);
		g_free(name);
		list = g_mime_message_get_reply_to(msg);
		check_int("one Reply-To", internet_address_list_length(list), 1);
		check_str("Message-Id", g_mime_message_get_message_id(msg), "confirm.2@imi.example.eu");
		if (g_mime_message_get_date(msg) == NULL ||
		    g_date_time_to_unix(g_mime_message_get_date(msg)) != 1795000000)
			fail_msg("row %zu: Date does not read back", i);
		if (strstr(g_mime_message_get_subject(msg), "[IMI-2026-000124]") == NULL)
			fail_msg("row %zu: subject without its case: %s", i,
				 g_mime_message_get_subject(msg));
		g_object_unref(msg);
		g_free(msgtext);
	}
}

/* From and To lines are kept for the senders and recipients that come
 * back (render_forget): a notice rendered with them kept is byte for byte
 * the one rendered anew, and a line kept for one field, name or address is
 * never given for another. */
static char *render_row(struct fixture *f, const char *from_name, const char *from_addr,
			const char *to_name, const char *to_addr)
{
	static const char *const body[] = {"confirm.understood", NULL};
	const struct catalog_arg args[] = {{"questions", "Q1: yes"}, {NULL, NULL}};
	struct render_notice in = {
		.env = {
			.from_name = from_name,
			.from_address = from_addr,
			.to_name = to_name,
			.to_address = to_addr,
			.reply_to = "imi+tok@imi.example.eu",
			.message_id = "confirm.3@imi.example.eu",
			.service_domain = "imi.example.eu",
			.date = 1795000000,
		},
		.catalog = f->catalog,
		.language = "fr",
		.case_id = "IMI-2026-000125",
		.subject_key = "confirm.subject",
		.body_keys = body,
		.args = args,
	};
	char *text = NULL, *error = NULL;
	size_t len;

	if (render_notice(&in, &text, &len, &error) != IMI_OK)
		fail_msg("render_notice: %s", error);
	check_int("length", (int)len, (int)strlen(text));
	return text;
}

static void test_render_kept_lines(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *from_name, *from_addr, *to_name, *to_addr;
	} rows[] = {
		{"IMI", "imi@imi.example.eu", "Registry", "registry@ordre.example.fr"},
		/* the same names, other addresses */
		{"IMI", "imi@imi.example.de", "Registry", "registry@ordre.example.de"},
		/* the same addresses, other names, and none */
		{"IMI Service", "imi@imi.example.eu", "Registre", "registry@ordre.example.fr"},
		{NULL, "imi@imi.example.eu", NULL, "registry@ordre.example.fr"},
		{"", "imi@imi.example.eu", "", "registry@ordre.example.fr"},
		/* a name and address used in From now in To, and the other way */
		{"Registry", "registry@ordre.example.fr", "IMI", "imi@imi.example.eu"},
		/* names to encode and fold, capitals in an address */
		{"Ordre national des médecins — Conseil départemental de la Haute-Garonne",
		 "imi@imi.example.eu", "Žilvinas Žemaitis", "Zilvinas@Ordre.Example.LT"},
		{"Smith, \"Jr.\" (Registry)", "imi@imi.example.eu",
		 "Ελληνική Αρχή Ελληνική Αρχή Ελληνική Αρχή Ελληνική Αρχή", "arxi@example.gr"},
	};
	char *fresh[G_N_ELEMENTS(rows)];

	/* Each rendered anew, then again with its lines kept. */
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *again;

		render_forget();
		fresh[i] = render_row(f, rows[i].from_name, rows[i].from_addr, rows[i].to_name,
				      rows[i].to_addr);
		again = render_row(f, rows[i].from_name, rows[i].from_addr, rows[i].to_name,
				   rows[i].to_addr);
		if (strcmp(again, fresh[i]) != 0)
			fail_msg("row %zu: kept lines: got\n%s\nwant\n%s", i, again, fresh[i]);
		g_free(again);
	}
	/* All kept at once, in both orders: each still its own. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t n = 0; n < G_N_ELEMENTS(rows); n++) {
			size_t i = pass == 0 ? n : G_N_ELEMENTS(rows) - 1 - n;
			char *again = render_row(f, rows[i].from_name, rows[i].from_addr,
						 rows[i].to_name, rows[i].to_addr);

			if (strcmp(again, fresh[i]) != 0)
				fail_msg("pass %d, row %zu: got\n%s\nwant\n%s", pass, i, again,
					 fresh[i]);
			g_free(again);
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		g_free(fresh[i]);
}

static void test_render_notice(void **state)
{
	struct fixture *f = *state;
	static const char *const body[] = {"confirm.understood", NULL};
	const struct catalog_arg args[] = {
		{"questions", "Q1: yes\nQ2: no"}, {NULL, NULL},
	};
	struct render_notice in = {
		.env = {
			.from_address = "imi@imi.example.eu",
			.to_address = "registry@ordre.example.fr",
			.reply_to = "imi+tok@imi.example.eu",
			.message_id = "confirm.1@imi.example.eu",
			.in_reply_to = "reply.42@ordre.example.fr",
			.service_domain = "imi.example.eu",
			.date = 1795000000,
		},
		.catalog = f->catalog,
		.language = "fr",
		.case_id = "IMI-2026-000123",
		.subject_key = "confirm.subject",
		.body_keys = body,
		.args = args,
		.body_text = "Q3: ?",
	};
	char *msgtext = NULL, *error = NULL, *plain;
	size_t len;
	GMimeMessage *msg;

	if (render_notice(&in, &msgtext, &len, &error) != IMI_OK)
		fail_msg("render_notice: %s", error);
	msg = parse(msgtext, len);
	check_str("subject", g_mime_message_get_subject(msg),
		  "Réponse reçue [IMI-2026-000123]");
	check_str("In-Reply-To",
		  g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"),
		  "<reply.42@ordre.example.fr>");
	check_str("Auto-Submitted",
		  g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted"),
		  "auto-generated");
	plain = part_text(msg, "plain");
	check_str("body", plain,
		  "Nous avons compris les réponses suivantes :\nQ1: yes\nQ2: no\n\nQ3: ?\n");
	g_free(plain);
	g_object_unref(msg);
	g_free(msgtext);

	/* A translation that brackets %{case} itself still gets one tag;
	 * one without %{case} gets it appended. */
	{
		static const char *const none[] = {NULL};
		char *dir = g_strdup("tests/tmp/render-cat-XXXXXX"), *path;
		struct catalog *cat = NULL;

		g_mkdir_with_parents("tests/tmp", 0700);
		if (g_mkdtemp(dir) == NULL)
			fail_msg("cannot create %s", dir);
		path = g_build_filename(dir, "en.ini", NULL);
		g_file_set_contents(path,
				    "[Catalog]\nLanguage=en\nLanguageName=English\n"
				    "[Messages]\na.subject=Case [%{case}] received\n"
				    "b.subject=Received\n", -1, NULL);
		if (catalog_open(dir, &cat, &error) != IMI_OK)
			fail_msg("%s", error);
		in.catalog = cat;
		in.language = "en";
		in.body_keys = none;
		in.body_text = NULL;
		in.subject_key = "a.subject";
		if (render_notice(&in, &msgtext, &len, &error) != IMI_OK)
			fail_msg("%s", error);
		msg = parse(msgtext, len);
		check_str("bracketed %{case}", g_mime_message_get_subject(msg),
			  "Case [IMI-2026-000123] received");
		g_object_unref(msg);
		g_free(msgtext);
		in.subject_key = "b.subject";
		if (render_notice(&in, &msgtext, &len, &error) != IMI_OK)
			fail_msg("%s", error);
		msg = parse(msgtext, len);
		check_str("no %{case}", g_mime_message_get_subject(msg),
			  "Received [IMI-2026-000123]");
		g_object_unref(msg);
		g_free(msgtext);
		catalog_close(&cat);
		unlink(path);
		g_rmdir(dir);
		g_free(path);
		g_free(dir);
		in.catalog = f->catalog;
	}

	in.subject_key = "no.such.key";
	check_int("unknown subject key", render_notice(&in, &msgtext, &len, &error),
		  IMI_INVALID);
	g_free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_languages),
		cmocka_unit_test(test_render_hostile),
		cmocka_unit_test(test_render_action_placeholder),
		cmocka_unit_test(test_render_notice),
		cmocka_unit_test(test_render_header_names),
		cmocka_unit_test(test_render_kept_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_align.c: alignment and the authority decision, as tables of facts.
 */
#include "testutil.h"

#include "parser/align.h"

/* ---- records ------------------------------------------------------------ */

static char *paris_domains[] = {"paris.ordre-medecins.fr", NULL};
static char *lyon_domains[] = {"lyon.ordre-medecins.fr", NULL};
static char *sante_domains[] = {"sante-example.fr", "ars-example.fr", NULL};
static char *handler_roles[] = {"handler", NULL};
static char *alert_roles[] = {"handler", "alert_sender", NULL};

static struct authority paris = {.id = "fr-om-paris", .domains = paris_domains};
static struct authority lyon = {.id = "fr-om-lyon", .domains = lyon_domains};
static struct authority sante = {.id = "fr-sante", .domains = sante_domains};
static struct authority sante_spf = {.id = "fr-sante", .domains = sante_domains, .spf_aligned = 1};
static struct authority paris_disabled = {.id = "fr-om-paris", .domains = paris_domains, .disabled = 1};

static struct user anna = {.id = "u1", .email = "anna@paris.ordre-medecins.fr",
			   .authority = "fr-om-paris", .roles = alert_roles};
static struct user anna_disabled = {.id = "u1", .email = "anna@paris.ordre-medecins.fr",
				    .authority = "fr-om-paris", .roles = alert_roles, .disabled = 1};
static struct user bob = {.id = "u2", .email = "bob@sante-example.fr",
			  .authority = "fr-sante", .roles = handler_roles};

/* ---- DKIM and SPF results ----------------------------------------------- */

static struct dkim_signature sig(const char *domain, enum dkim_verdict verdict)
{
	struct dkim_signature s = {
		.domain = (char *)domain, .selector = "sel", .algorithm = "rsa-sha256",
		.verdict = verdict, .reason = (char *)(verdict == DKIM_VERDICT_PASS ? "signature verified" :
						       verdict == DKIM_VERDICT_FAIL ? "body hash does not match" :
						       verdict == DKIM_VERDICT_POLICY ? "rsa-sha1 is no longer accepted" :
						       "key DNS query failed"),
		.timestamp = -1, .body_length = -1};
	return s;
}

static struct dkim_signature sig_paris_pass, sig_mail_paris_pass, sig_parent_pass, sig_lyon_pass,
	sig_esp_pass, sig_paris_fail, sig_paris_policy, sig_paris_temp, sig_sante_pass;
static struct dkim_result dkim_none;
static struct dkim_result dkim_paris, dkim_mail_paris, dkim_parent, dkim_lyon, dkim_esp,
	dkim_fail, dkim_policy, dkim_temp, dkim_temp_and_pass, dkim_sante;
static struct dkim_signature temp_and_pass[2];
static struct spf_result spf_pass_sante = {SPF_VERDICT_PASS, "mailfrom", "sante-example.fr",
					   "bob@sante-example.fr", "", ""};
static struct spf_result spf_pass_esp = {SPF_VERDICT_PASS, "mailfrom", "bounce.esp-example.com",
					 "b@bounce.esp-example.com", "", ""};
static struct spf_result spf_fail_sante = {SPF_VERDICT_FAIL, "mailfrom", "sante-example.fr",
					   "bob@sante-example.fr", "", ""};
static struct spf_result spf_temp_sante = {SPF_VERDICT_TEMPERROR, "mailfrom", "sante-example.fr",
					   "bob@sante-example.fr", "", ""};

static void one(struct dkim_result *r, struct dkim_signature *s)
{
	r->signatures = s;
	r->n_signatures = 1;
	r->from_count = 1;
}

static int setup(void **state)
{
	sig_paris_pass = sig("paris.ordre-medecins.fr", DKIM_VERDICT_PASS);
	sig_mail_paris_pass = sig("mail.paris.ordre-medecins.fr", DKIM_VERDICT_PASS);
	sig_parent_pass = sig("ordre-medecins.fr", DKIM_VERDICT_PASS);
	sig_lyon_pass = sig("lyon.ordre-medecins.fr", DKIM_VERDICT_PASS);
	sig_esp_pass = sig("esp-example.com", DKIM_VERDICT_PASS);
	sig_paris_fail = sig("paris.ordre-medecins.fr", DKIM_VERDICT_FAIL);
	sig_paris_policy = sig("paris.ordre-medecins.fr", DKIM_VERDICT_POLICY);
	sig_paris_temp = sig("paris.ordre-medecins.fr", DKIM_VERDICT_TEMPERROR);
	sig_sante_pass = sig("sante-example.fr", DKIM_VERDICT_PASS);
	one(&dkim_paris, &sig_paris_pass);
	one(&dkim_mail_paris, &sig_mail_paris_pass);
	one(&dkim_parent, &sig_parent_pass);
	one(&dkim_lyon, &sig_lyon_pass);
	one(&dkim_esp, &sig_esp_pass);
	one(&dkim_fail, &sig_paris_fail);
	one(&dkim_policy, &sig_paris_policy);
	one(&dkim_temp, &sig_paris_temp);
	one(&dkim_sante, &sig_sante_pass);
	temp_and_pass[0] = sig_paris_temp;
	temp_and_pass[1] = sig_mail_paris_pass;
	dkim_temp_and_pass.signatures = temp_and_pass;
	dkim_temp_and_pass.n_signatures = 2;
	dkim_none.from_count = 1;
	return 0;
}

/* ---- the decision table ------------------------------------------------- */

#define ANNA "anna@paris.ordre-medecins.fr"

static char *trusted_paris[] = {"esp-example.com", "paris.ordre-medecins.fr", NULL};
static char *trusted_esp[] = {"esp-example.com", NULL};
#define BOB "bob@sante-example.fr"

struct decide_case {
	const char *name;
	const char *from;
	unsigned from_count;
	struct dkim_result *dkim;
	struct spf_result *spf;
	int poller;
	char **trusted;
	struct user *user;
	struct authority *authority;
	const char *role;
	enum align_verdict want;
	const char *want_code;
	const char *want_method;
	const char *want_text; /* substring of the sentence */
};

static const struct decide_case decide_cases[] = {
	{"aligned: same domain", ANNA, 1, &dkim_paris, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_ACCEPT, "ok", "dkim", "DKIM"},
	{"aligned: signing subdomain", ANNA, 1, &dkim_mail_paris, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_ACCEPT, "ok", "dkim", "mail.paris.ordre-medecins.fr"},
	{"aligned by organization, parent not registered", ANNA, 1, &dkim_parent, NULL, 0, NULL, &anna,
	 &paris, NULL, ALIGN_REJECT, "dkim-unregistered", NULL, "not a domain registered"},
	{"unaligned: signed by a mail provider", ANNA, 1, &dkim_esp, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "dkim-unaligned", NULL, "does not match the From domain"},
	{"unregistered: sibling authority's domain", ANNA, 1, &dkim_lyon, NULL, 0, NULL, &anna, &paris,
	 NULL, ALIGN_REJECT, "dkim-unregistered", NULL, "fr-om-paris"},
	{"lyon's own signature for lyon", "x@lyon.ordre-medecins.fr", 1, &dkim_lyon, NULL, 0, NULL,
	 &(struct user){.id = "u9", .authority = "fr-om-lyon"}, &lyon, NULL, ALIGN_ACCEPT, "ok", "dkim", ""},
	{"no signature", ANNA, 1, &dkim_none, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "dkim-missing", NULL, "no DKIM signature"},
	{"signature failed", ANNA, 1, &dkim_fail, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "dkim-failed", NULL, "body hash"},
	{"signature refused", ANNA, 1, &dkim_policy, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "dkim-refused", NULL, "rsa-sha1"},
	{"DNS trouble on the only signature", ANNA, 1, &dkim_temp, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_TEMPFAIL, "dns-temperror", NULL, "retried"},
	{"DNS trouble, but another signature passes", ANNA, 1, &dkim_temp_and_pass, NULL, 0, NULL, &anna,
	 &paris, NULL, ALIGN_ACCEPT, "ok", "dkim", ""},
	{"SPF-aligned authority, SPF pass", BOB, 1, &dkim_none, &spf_pass_sante, 0, NULL, &bob, &sante_spf,
	 NULL, ALIGN_ACCEPT, "ok", "spf", "SPF"},
	{"SPF pass without SPF alignment granted", BOB, 1, &dkim_none, &spf_pass_sante, 0, NULL, &bob,
	 &sante, NULL, ALIGN_REJECT, "dkim-missing", NULL, "no DKIM signature"},
	{"SPF pass for another domain", BOB, 1, &dkim_none, &spf_pass_esp, 0, NULL, &bob, &sante_spf, NULL,
	 ALIGN_REJECT, "spf-unaligned", NULL, "bounce.esp-example.com"},
	{"SPF fail", BOB, 1, &dkim_none, &spf_fail_sante, 0, NULL, &bob, &sante_spf, NULL,
	 ALIGN_REJECT, "spf-failed", NULL, "\"fail\""},
	{"SPF temperror", BOB, 1, &dkim_none, &spf_temp_sante, 0, NULL, &bob, &sante_spf, NULL,
	 ALIGN_TEMPFAIL, "dns-temperror", NULL, ""},
	{"SPF-aligned authority signing with DKIM", BOB, 1, &dkim_sante, &spf_fail_sante, 0, NULL, &bob,
	 &sante_spf, NULL, ALIGN_ACCEPT, "ok", "dkim", ""},
	{"poller: SPF does not count", BOB, 1, &dkim_none, &spf_pass_sante, 1, NULL, &bob, &sante_spf,
	 NULL, ALIGN_REJECT, "dkim-missing", NULL, "cannot be checked with SPF"},
	{"poller: DKIM counts", ANNA, 1, &dkim_paris, NULL, 1, NULL, &anna, &paris, NULL,
	 ALIGN_ACCEPT, "ok", "dkim", ""},
	{"poller: trusted Authentication-Results", ANNA, 1, &dkim_none, NULL, 1, trusted_paris,
	 &anna, &paris, NULL, ALIGN_ACCEPT, "ok", "trusted-ar", "mailbox server"},
	{"poller: trusted A-R for a foreign domain", ANNA, 1, &dkim_none, NULL, 1, trusted_esp,
	 &anna, &paris, NULL, ALIGN_REJECT, "dkim-missing", NULL, ""},
	{"trusted A-R ignored off the poller path", ANNA, 1, &dkim_none, NULL, 0, trusted_paris,
	 &anna, &paris, NULL, ALIGN_REJECT, "dkim-missing", NULL, ""},
	{"disabled user", ANNA, 1, &dkim_paris, NULL, 0, NULL, &anna_disabled, &paris, NULL,
	 ALIGN_REJECT, "user-disabled", NULL, "disabled"},
	{"disabled authority", ANNA, 1, &dkim_paris, NULL, 0, NULL, &anna, &paris_disabled, NULL,
	 ALIGN_REJECT, "authority-disabled", NULL, "fr-om-paris"},
	{"role held", ANNA, 1, &dkim_paris, NULL, 0, NULL, &anna, &paris, "alert_sender",
	 ALIGN_ACCEPT, "ok", "dkim", ""},
	{"role missing", BOB, 1, &dkim_sante, NULL, 0, NULL, &bob, &sante, "alert_sender",
	 ALIGN_REJECT, "role-missing", NULL, "alert_sender"},
	{"unknown sender", "eve@paris.ordre-medecins.fr", 1, &dkim_paris, NULL, 0, NULL, NULL, NULL, NULL,
	 ALIGN_REJECT, "sender-unknown", NULL, "not registered"},
	{"user of another authority", ANNA, 1, &dkim_paris, NULL, 0, NULL, &anna, &lyon, NULL,
	 ALIGN_REJECT, "authority-unknown", NULL, ""},
	{"two From fields", ANNA, 2, &dkim_paris, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "from-multiple", NULL, "2 From"},
	{"no From field", NULL, 0, &dkim_paris, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "from-missing", NULL, ""},
	{"invalid From", "anna", 1, &dkim_paris, NULL, 0, NULL, &anna, &paris, NULL,
	 ALIGN_REJECT, "from-invalid", NULL, ""},
	{"never neither: no DKIM, no SPF", BOB, 1, NULL, NULL, 0, NULL, &bob, &sante_spf, NULL,
	 ALIGN_REJECT, "dkim-missing", NULL, ""},
};

static void test_decide(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(decide_cases); i++) {
		const struct decide_case *c = &decide_cases[i];
		struct align_facts f = {
			.from = c->from, .from_count = c->from_count, .dkim = c->dkim, .spf = c->spf,
			.poller = c->poller, .trusted_dkim_domains = c->trusted, .user = c->user,
			.authority = c->authority, .role = c->role};
		struct align_decision d;
		char *field;

		align_decide(&f, &d);
		field = g_strdup_printf("%s: verdict (%s: %s)", c->name, d.code, d.text);
		check_str(field, align_verdict_name(d.verdict), align_verdict_name(c->want));
		g_free(field);
		field = g_strdup_printf("%s: code", c->name);
		check_str(field, d.code, c->want_code);
		g_free(field);
		field = g_strdup_printf("%s: method", c->name);
		check_str(field, d.method, c->want_method);
		g_free(field);
		if (d.text == NULL || strstr(d.text, c->want_text) == NULL)
			fail_msg("%s: text: got \"%s\", want it to contain \"%s\"", c->name,
				 d.text ? d.text : "(null)", c->want_text);
		if ((d.verdict == ALIGN_ACCEPT) != (d.domain != NULL))
			fail_msg("%s: domain \"%s\" with verdict %s", c->name,
				 d.domain ? d.domain : "(null)", align_verdict_name(d.verdict));
		align_decision_clear(&d);
	}
}

static void test_domains(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
		{"ordre-medecins.fr", "ordre-medecins.fr", 1},
		{"paris.ordre-medecins.fr", "mail.ordre-medecins.fr", 1},
		{"Paris.Ordre-Medecins.FR", "ordre-medecins.fr.", 1},
		{"ordre-medecins.fr", "medecins.fr", 0},
		{"a.example.co.uk", "b.example.co.uk", 1},
		{"example.co.uk", "other.co.uk", 0},
		{"co.uk", "example.co.uk", 0},
		{"x.github.io", "y.github.io", 0}, /* private suffix: separate owners */
		{"", "example.org", 0},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *field = g_strdup_printf("align_domains(%s, %s)", cases[i].a, cases[i].b);
		check_int(field, align_domains(cases[i].a, cases[i].b), cases[i].want);
		g_free(field);
	}
}

static void test_registered(void **state)
{
	check_int("exact", align_registered(&sante, "sante-example.fr"), 1);
	check_int("second", align_registered(&sante, "ARS-example.fr"), 1);
	check_int("below", align_registered(&sante, "mail.sante-example.fr"), 1);
	check_int("suffix but not below", align_registered(&sante, "xsante-example.fr"), 0);
	check_int("parent", align_registered(&paris, "ordre-medecins.fr"), 0);
	check_int("sibling", align_registered(&paris, "lyon.ordre-medecins.fr"), 0);
}

static void test_trusted_ar(void **state)
{
	static const struct {
		const char *name, *value, *want; /* want: domains joined by "," */
	} cases[] = {
		{"one pass", "mx.example.net; dkim=pass header.d=Paris.Ordre-Medecins.fr header.s=s1",
		 "paris.ordre-medecins.fr"},
		{"version and comments",
		 "mx.example.net 1; spf=pass smtp.mailfrom=a@b.fr; dkim=pass (good; signature) header.i=@x.fr "
		 "header.d=x.fr; dkim=fail header.d=y.fr", "x.fr"},
		{"quoted d=", "mx.example.net; dkim=pass header.d=\"z.fr\"", "z.fr"},
		{"two passes", "mx.example.net;\n\tdkim=pass header.d=a.fr;\n\tdkim=pass header.d=b.fr", "a.fr,b.fr"},
		{"untrusted authserv-id", "evil.example; dkim=pass header.d=paris.ordre-medecins.fr", ""},
		{"authserv-id only in a comment", "(mx.example.net) evil.example; dkim=pass header.d=a.fr", ""},
		{"none", "mx.example.net; none", ""},
		{"dkim=pass in a reason", "mx.example.net; spf=fail reason=\"dkim=pass header.d=a.fr\"", ""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char **got = align_trusted_dkim_domains(cases[i].value, "mx.example.net");
		char *joined = g_strjoinv(",", got);
		check_str(cases[i].name, joined, cases[i].want);
		g_free(joined);
		g_strfreev(got);
	}
}

static void test_authentication_results(void **state)
{
	char *ar = align_authentication_results("imi.example.eu", &dkim_paris, &spf_pass_sante);
	char *none = align_authentication_results("imi.example.eu", NULL, NULL);
	char *nosig = align_authentication_results("imi.example.eu", &dkim_none, NULL);

	check_str("A-R", ar,
		  "imi.example.eu;\n"
		  "\tdkim=pass reason=\"signature verified\" header.d=paris.ordre-medecins.fr "
		  "header.s=sel header.a=rsa-sha256;\n"
		  "\tspf=pass smtp.mailfrom=bob@sante-example.fr");
	check_str("A-R without checks", none, "imi.example.eu; none");
	check_str("A-R without signature", nosig, "imi.example.eu;\n\tdkim=none");
	g_free(ar);
	g_free(none);
	g_free(nosig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_trusted_ar),
		cmocka_unit_test(test_authentication_results),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * align.c: alignment and the authority decision.  See align.h.
 */
#include "parser/align.h"

#include <libpsl.h>
#include <string.h>

char *align_org_domain(const char *domain)
{
	char *lower = g_ascii_strdown(domain, -1);
	const char *org;
	char *out;

	while (*lower != '\0' && lower[strlen(lower) - 1] == '.')
		lower[strlen(lower) - 1] = '\0';
	org = psl_registrable_domain(psl_builtin(), lower);
	out = g_strdup(org != NULL ? org : lower);
	g_free(lower);
	return out;
}

int align_domains(const char *from_domain, const char *auth_domain)
{
	char *a, *b;
	int same;

	if (from_domain == NULL || auth_domain == NULL || *from_domain == '\0' ||
	    *auth_domain == '\0')
		return 0;
	a = align_org_domain(from_domain);
	b = align_org_domain(auth_domain);
	same = strcmp(a, b) == 0;
	g_free(a);
	g_free(b);
	return same;
}

int align_registered(const struct authority *authority, const char *domain)
{
	size_t len = strlen(domain);

	for (unsigned i = 0; authority->domains != NULL && authority->domains[i] != NULL; i++) {
		const char *reg = authority->domains[i];
		size_t reg_len = strlen(reg);
		if (reg_len == 0)
			continue;
		if (g_ascii_strcasecmp(domain, reg) == 0)
			return 1;
		if (len > reg_len + 1 && domain[len - reg_len - 1] == '.' &&
		    g_ascii_strcasecmp(domain + len - reg_len, reg) == 0)
			return 1;
	}
	return 0;
}

const char *align_verdict_name(enum align_verdict verdict)
{
	switch (verdict) {
	case ALIGN_ACCEPT: return "accept";
	case ALIGN_REJECT: return "reject";
	case ALIGN_TEMPFAIL: return "tempfail";
	}
	return "reject";
}

static int align_user_has_role(const struct user *user, const char *role)
{
	for (unsigned i = 0; user->roles != NULL && user->roles[i] != NULL; i++)
		if (strcmp(user->roles[i], role) == 0)
			return 1;
	return 0;
}

/* The most telling reason found so far for not accepting. */
struct align_note {
	int rank;
	const char *code;
	char *text;
};

enum {
	RANK_DKIM_MISSING = 1,
	RANK_SPF = 2,
	RANK_DKIM_FAILED = 3,
	RANK_DKIM_UNALIGNED = 4,
	RANK_DKIM_UNREGISTERED = 5,
};

static void align_note_set(struct align_note *note, int rank, const char *code, char *text)
{
	if (rank <= note->rank) {
		g_free(text);
		return;
	}
	g_free(note->text);
	note->rank = rank;
	note->code = code;
	note->text = text;
}

static void align_set(struct align_decision *d, enum align_verdict verdict,
		      const char *code, char *text)
{
	d->verdict = verdict;
	d->code = code;
	g_free(d->text);
	d->text = text;
}

/* DKIM signatures: accepts (returns 1) or leaves a note; *temp set when a
 * signature that could have authenticated the message met a DNS problem. */
static int align_check_dkim(const struct align_facts *f, const char *from_domain,
			    struct align_note *note, int *temp, struct align_decision *d)
{
	unsigned n = f->dkim != NULL ? f->dkim->n_signatures : 0;

	for (unsigned i = 0; i < n; i++) {
		const struct dkim_signature *s = &f->dkim->signatures[i];
		int aligned = align_domains(from_domain, s->domain);
		int registered = align_registered(f->authority, s->domain);

		switch (s->verdict) {
		case DKIM_VERDICT_PASS:
			if (aligned && registered) {
				d->method = "dkim";
				d->domain = g_strdup(s->domain);
				return 1;
			}
			if (!aligned)
				align_note_set(note, RANK_DKIM_UNALIGNED, "dkim-unaligned",
					g_strdup_printf("The message is DKIM-signed by %s, which does not match the "
							"From domain %s. The signature must be made with the From "
							"domain or a domain of the same organization.",
							s->domain, from_domain));
			else
				align_note_set(note, RANK_DKIM_UNREGISTERED, "dkim-unregistered",
					g_strdup_printf("The message is DKIM-signed by %s, which is not a domain "
							"registered for the authority %s. Sign with a registered "
							"domain, or ask your IMI coordinator to register %s.",
							s->domain, f->authority->id, s->domain));
			break;
		case DKIM_VERDICT_TEMPERROR:
			if (aligned && registered)
				*temp = 1;
			break;
		case DKIM_VERDICT_POLICY:
			align_note_set(note, RANK_DKIM_FAILED, "dkim-refused",
				g_strdup_printf("The DKIM signature of %s was refused: %s.", s->domain, s->reason));
			break;
		case DKIM_VERDICT_FAIL:
		case DKIM_VERDICT_PERMERROR:
			align_note_set(note, RANK_DKIM_FAILED, "dkim-failed",
				g_strdup_printf("The DKIM signature of %s did not verify: %s. Either the message "
						"was changed on its way, or the key published in DNS "
						"(%s._domainkey.%s) is not the one it was signed with.",
						s->domain, s->reason, s->selector, s->domain));
			break;
		}
	}
	if (n == 0)
		align_note_set(note, RANK_DKIM_MISSING, "dkim-missing",
			g_strdup_printf("The message carries no DKIM signature. Mail from %s must be "
					"DKIM-signed with %s or another domain registered for the "
					"authority %s; ask your mail administrator to turn on DKIM signing.",
					from_domain, from_domain, f->authority->id));
	return 0;
}

static int align_check_spf(const struct align_facts *f, const char *from_domain,
			   struct align_note *note, int *temp, struct align_decision *d)
{
	const struct spf_result *spf = f->spf;

	if (spf->verdict == SPF_VERDICT_PASS) {
		int aligned = align_domains(from_domain, spf->domain);
		int registered = align_registered(f->authority, spf->domain);
		if (aligned && registered) {
			d->method = "spf";
			d->domain = g_strdup(spf->domain);
			return 1;
		}
		if (!aligned)
			align_note_set(note, RANK_SPF, "spf-unaligned",
				g_strdup_printf("SPF passed for %s, which does not match the From domain %s: "
						"the envelope sender must use the From domain.",
						spf->domain, from_domain));
		else
			align_note_set(note, RANK_SPF, "spf-unregistered",
				g_strdup_printf("SPF passed for %s, which is not a domain registered for the "
						"authority %s.", spf->domain, f->authority->id));
	} else if (spf->verdict == SPF_VERDICT_TEMPERROR) {
		*temp = 1;
	} else {
		align_note_set(note, RANK_SPF, "spf-failed",
			g_strdup_printf("The message has no valid DKIM signature and the SPF check of %s "
					"gave \"%s\": the sending server is not authorized by the SPF "
					"record of %s. Sign the message with DKIM, or list the sending "
					"server in the SPF record.",
					spf->domain[0] != '\0' ? spf->domain : "the sender",
					spf_verdict_name(spf->verdict),
					spf->domain[0] != '\0' ? spf->domain : "the sender's domain"));
	}
	return 0;
}

void align_decide(const struct align_facts *f, struct align_decision *d)
{
	struct align_note note = {0};
	const char *from_domain;
	int temp = 0, accepted = 0;

	memset(d, 0, sizeof(*d));
	/* Who does the message claim to be from? */
	if (f->from_count == 0 || f->from == NULL || *f->from == '\0') {
		align_set(d, ALIGN_REJECT, "from-missing", g_strdup("The message has no From address."));
		return;
	}
	if (f->from_count > 1) {
		align_set(d, ALIGN_REJECT, "from-multiple",
			  g_strdup_printf("The message has %u From header fields; exactly one is accepted "
					  "(RFC 6376 section 8.15).", f->from_count));
		return;
	}
	if (!imi_email_valid(f->from)) {
		align_set(d, ALIGN_REJECT, "from-invalid",
			  g_strdup_printf("The From address \"%s\" is not a valid e-mail address.", f->from));
		return;
	}
	from_domain = imi_email_domain(f->from);

	/* Is that someone we know, and active? */
	if (f->user == NULL) {
		align_set(d, ALIGN_REJECT, "sender-unknown",
			  g_strdup_printf("%s is not registered as a user of any authority. Ask your national "
					  "IMI coordinator to register this address.", f->from));
		return;
	}
	if (f->authority == NULL || f->user->authority == NULL ||
	    strcmp(f->user->authority, f->authority->id) != 0) {
		align_set(d, ALIGN_REJECT, "authority-unknown",
			  g_strdup_printf("%s is registered, but not with a known authority; the IMI "
					  "operator must check the directory.", f->from));
		return;
	}
	if (f->authority->disabled) {
		align_set(d, ALIGN_REJECT, "authority-disabled",
			  g_strdup_printf("The authority %s is disabled; its messages are not accepted.",
					  f->authority->id));
		return;
	}
	if (f->user->disabled) {
		align_set(d, ALIGN_REJECT, "user-disabled",
			  g_strdup_printf("The user %s is disabled; ask your IMI coordinator to enable "
					  "the address again.", f->from));
		return;
	}

	/* Did the domain prove it?  DKIM first, then what the path allows. */
	accepted = align_check_dkim(f, from_domain, &note, &temp, d);
	for (unsigned i = 0; !accepted && f->poller && f->trusted_dkim_domains != NULL &&
			     f->trusted_dkim_domains[i] != NULL; i++) {
		const char *domain = f->trusted_dkim_domains[i];
		if (align_domains(from_domain, domain) && align_registered(f->authority, domain)) {
			d->method = "trusted-ar";
			d->domain = g_strdup(domain);
			accepted = 1;
		}
	}
	if (!accepted && !f->poller && f->authority->spf_aligned && f->spf != NULL)
		accepted = align_check_spf(f, from_domain, &note, &temp, d);
	if (!accepted) {
		if (temp) {
			align_set(d, ALIGN_TEMPFAIL, "dns-temperror",
				  g_strdup("A DNS lookup needed to check the sender failed for now; the "
					   "message will be checked again when it is retried."));
		} else {
			if (f->poller && f->authority->spf_aligned && note.rank <= RANK_DKIM_MISSING) {
				char *more = g_strconcat(note.text != NULL ? note.text : "",
							 " Messages collected from a mailbox cannot be checked "
							 "with SPF; they need a DKIM signature.", NULL);
				g_free(note.text);
				note.text = more;
			}
			align_set(d, ALIGN_REJECT, note.code != NULL ? note.code : "dkim-missing",
				  note.text != NULL ? note.text : g_strdup("The message is not authenticated."));
			note.text = NULL;
		}
		g_free(note.text);
		return;
	}
	g_free(note.text);

	/* Authenticated; may this user do this? */
	if (f->role != NULL && !align_user_has_role(f->user, f->role)) {
		g_free(d->domain);
		d->domain = NULL;
		d->method = NULL;
		align_set(d, ALIGN_REJECT, "role-missing",
			  g_strdup_printf("%s does not have the role \"%s\" needed for this action; ask "
					  "your IMI coordinator.", f->from, f->role));
		return;
	}
	align_set(d, ALIGN_ACCEPT, "ok",
		  g_strdup_printf("Authenticated by %s of %s.",
				  strcmp(d->method, "spf") == 0 ? "SPF" :
				  strcmp(d->method, "dkim") == 0 ? "a DKIM signature" :
				  "the mailbox server's DKIM check", d->domain));
}

void align_decision_clear(struct align_decision *d)
{
	g_free(d->text);
	g_free(d->domain);
	memset(d, 0, sizeof(*d));
}

/* The value without comments, with ';' outside quoted strings turned into
 * '\n' so that it splits into the authserv-id and the results. */
static char *align_ar_clean(const char *value)
{
	GString *out = g_string_new(NULL);
	int depth = 0, quoted = 0;

	for (const char *p = value; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = 0;
			else
				g_string_append_c(out, *p);
			continue;
		}
		if (depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			continue;
		}
		if (*p == '(')
			depth++, g_string_append_c(out, ' ');
		else if (*p == '"')
			quoted = 1;
		else if (*p == ';')
			g_string_append_c(out, '\n');
		else if (*p == '\r' || *p == '\n' || *p == '\t')
			g_string_append_c(out, ' ');
		else
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

char **align_trusted_dkim_domains(const char *header_value,
				  const char *trusted_authserv_id)
{
	GPtrArray *out = g_ptr_array_new();
	char *clean, **parts, **words;

	if (header_value == NULL || trusted_authserv_id == NULL || *trusted_authserv_id == '\0' ||
	    strlen(header_value) > ALIGN_MAX_AR_BYTES) {
		g_ptr_array_add(out, NULL);
		return (char **)g_ptr_array_free(out, FALSE);
	}
	clean = align_ar_clean(header_value);
	parts = g_strsplit(clean, "\n", ALIGN_MAX_AR_RESULTS + 1);
	words = g_strsplit_set(g_strstrip(parts[0]), " ", 2);
	if (words[0] != NULL && g_ascii_strcasecmp(words[0], trusted_authserv_id) == 0) {
		for (unsigned i = 1; parts[i] != NULL && i <= ALIGN_MAX_AR_RESULTS; i++) {
			char **tokens = g_strsplit_set(g_strstrip(parts[i]), " ", -1);
			const char *domain = NULL;
			/* The result is the first word: "dkim=pass" (or with a
			 * method version, "dkim/1=pass"). */
			int pass = tokens[0] != NULL &&
				   (g_ascii_strcasecmp(tokens[0], "dkim=pass") == 0 ||
				    g_ascii_strcasecmp(tokens[0], "dkim/1=pass") == 0);
			for (unsigned t = 1; pass && tokens[t] != NULL; t++)
				if (g_ascii_strncasecmp(tokens[t], "header.d=", 9) == 0)
					domain = tokens[t] + 9;
			if (pass && domain != NULL && *domain != '\0')
				g_ptr_array_add(out, g_ascii_strdown(domain, -1));
			g_strfreev(tokens);
		}
	}
	g_strfreev(words);
	g_strfreev(parts);
	g_free(clean);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* A quoted-string value with the characters that would end it escaped. */
static void align_append_quoted(GString *out, const char *text)
{
	g_string_append_c(out, '"');
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(out, '\\');
		if ((unsigned char)*p >= ' ')
			g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

char *align_authentication_results(const char *authserv_id,
				   const struct dkim_result *dkim,
				   const struct spf_result *spf)
{
	GString *out = g_string_new(authserv_id);
	int any = 0;

	for (unsigned i = 0; dkim != NULL && i < dkim->n_signatures; i++) {
		const struct dkim_signature *s = &dkim->signatures[i];
		g_string_append_printf(out, ";\n\tdkim=%s reason=", dkim_verdict_name(s->verdict));
		align_append_quoted(out, s->reason);
		g_string_append_printf(out, " header.d=%s header.s=%s header.a=%s", s->domain,
				       s->selector, s->algorithm);
		any = 1;
	}
	if (dkim != NULL && dkim->n_signatures == 0) {
		g_string_append(out, ";\n\tdkim=none");
		any = 1;
	}
	if (spf != NULL) {
		g_string_append_printf(out, ";\n\tspf=%s", spf_verdict_name(spf->verdict));
		if (spf->sender[0] != '\0')
			g_string_append_printf(out, " smtp.%s=%s",
					       strcmp(spf->identity, "helo") == 0 ? "helo" : "mailfrom",
					       spf->sender);
		any = 1;
	}
	if (!any)
		g_string_append(out, "; none");
	return g_string_free(out, FALSE);
}

/*
 * dkim.c: libopendkim driven over one message in memory.  See dkim.h.
 */
#include "parser/dkim.h"

#include <sodium.h>
#include <string.h>

#define DKIM_SIGNATURE_HEADER "DKIM-Signature"
#define DKIM_KEY_MAX_BYTES 65536   /* a private key file larger than this is not one */

struct dkim_verifier {
	DKIM_LIB *lib;
};

/* libopendkim's leak of an Ed25519 signing key under LeakSanitizer: see
 * __lsan_default_suppressions in util/util.c. */

/* ---- the message, split for the library --------------------------------- */

struct dkim_message {
	GPtrArray *fields;      /* header fields, CRLF inside, no final CRLF */
	GHashTable *counts;     /* lower-case name -> occurrences (GUINT_TO_POINTER) */
	const char *body;       /* into the message: after the empty line */
	size_t body_len;        /* as received (LF or CRLF line ends) */
	unsigned signatures;    /* DKIM-Signature fields */
	int from_count_excess;  /* more than one From field */
};

static void dkim_message_clear(struct dkim_message *m)
{
	if (m->fields != NULL)
		g_ptr_array_free(m->fields, TRUE);
	if (m->counts != NULL)
		g_hash_table_destroy(m->counts);
	memset(m, 0, sizeof(*m));
}

static char *dkim_field_name(const char *field)
{
	const char *colon = strchr(field, ':');
	size_t len = colon != NULL ? (size_t)(colon - field) : 0;

	while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\t'))
		len--;
	return g_ascii_strdown(field, (gssize)len);
}

/* Splits at the first empty line: header fields copied (CRLF inside), the
 * body only pointed at.  Its line ends become CRLF as it is fed to the
 * library (dkim_feed_body), a chunk at a time: a copy of a 35 MB body,
 * and the library's own buffers for a body handed over in one piece,
 * made verification the peak of imi deliver's memory. */
static int dkim_message_split(const char *message, size_t len,
			      struct dkim_message *m, char **error_r)
{
	const char *p = message, *end = message + len;
	GString *field = NULL;
	int in_body = 0;

	m->fields = g_ptr_array_new_with_free_func(g_free);
	m->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->body = end;
	m->body_len = 0;
	while (p < end && !in_body) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (nl != NULL ? (size_t)(nl - p) : (size_t)(end - p));
		if (line_len > 0 && p[line_len - 1] == '\r')
			line_len--;
		if (line_len == 0) {
			in_body = 1;
			m->body = nl != NULL ? nl + 1 : end;
			m->body_len = (size_t)(end - m->body);
		} else if ((p[0] == ' ' || p[0] == '\t') && field != NULL) {
			g_string_append(field, "\r\n");
			g_string_append_len(field, p, (gssize)line_len);
		} else {
			if (field != NULL)
				g_ptr_array_add(m->fields, g_string_free(field, FALSE));
			if (m->fields->len >= DKIM_MAX_HEADER_FIELDS)
				return imi_fail(error_r, IMI_TOOBIG,
						"the message has more than %d header fields",
						DKIM_MAX_HEADER_FIELDS);
			field = g_string_new_len(p, (gssize)line_len);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (field != NULL)
		g_ptr_array_add(m->fields, g_string_free(field, FALSE));
	for (unsigned i = 0; i < m->fields->len; i++) {
		char *name = dkim_field_name(m->fields->pdata[i]);
		unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(m->counts, name));
		if (strcmp(name, "dkim-signature") == 0)
			m->signatures++;
		g_hash_table_replace(m->counts, name, GUINT_TO_POINTER(n + 1));
	}
	if (m->signatures > DKIM_MAX_SIGNATURES)
		return imi_fail(error_r, IMI_TOOBIG,
				"the message has %u DKIM signatures, more than the %d "
				"looked at", m->signatures, DKIM_MAX_SIGNATURES);
	return IMI_OK;
}

/* The body's lines as the library must see them: each line without its
 * LF or CRLF, then CRLF when the line had an end.  Returns where the next
 * line starts. */
static const char *dkim_body_line(const char *p, const char *end,
				  size_t *len_r, int *ended_r)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

	if (len > 0 && p[len - 1] == '\r')
		len--;
	*len_r = len;
	*ended_r = nl != NULL;
	return nl != NULL ? nl + 1 : end;
}

#define DKIM_BODY_CHUNK 65536 /* bytes handed to dkim_body at a time */

static void dkim_chunk_add(DKIM *dkim, unsigned char *buf, size_t *used,
			   const char *data, size_t len, DKIM_STAT *status)
{
	while (len > 0 && *status == DKIM_STAT_OK) {
		size_t n = MIN(len, DKIM_BODY_CHUNK - *used);
		memcpy(buf + *used, data, n);
		*used += n;
		data += n;
		len -= n;
		if (*used == DKIM_BODY_CHUNK) {
			*status = dkim_body(dkim, buf, *used);
			*used = 0;
		}
	}
}

/* The body, with CRLF line ends, in chunks of DKIM_BODY_CHUNK. */
static DKIM_STAT dkim_feed_body(DKIM *dkim, const struct dkim_message *m)
{
	unsigned char *buf = g_malloc(DKIM_BODY_CHUNK);
	const char *p = m->body, *end = m->body + m->body_len;
	size_t used = 0, len;
	int ended;
	DKIM_STAT status = DKIM_STAT_OK;

	while (p < end && status == DKIM_STAT_OK) {
		const char *line = p;
		p = dkim_body_line(p, end, &len, &ended);
		dkim_chunk_add(dkim, buf, &used, line, len, &status);
		if (ended)
			dkim_chunk_add(dkim, buf, &used, "\r\n", 2, &status);
	}
	if (status == DKIM_STAT_OK && used > 0)
		status = dkim_body(dkim, buf, used);
	g_free(buf);
	return status;
}

/* Length of the whole canonicalized body (RFC 6376 §3.4.3, §3.4.4), for
 * comparing with l=. */
static int64_t dkim_canon_body_length(const struct dkim_message *m, int relaxed)
{
	const char *p = m->body, *end = m->body + m->body_len;
	int64_t total = 0, pending_empty = 0;

	while (p < end) {
		const char *line = p;
		size_t len;
		int ended;
		int64_t line_len = 0;

		p = dkim_body_line(p, end, &len, &ended);
		if (relaxed) {
			int in_space = 0;
			for (const char *c = line; c < line + len; c++) {
				if (*c == ' ' || *c == '\t') {
					in_space = 1;
					continue;
				}
				line_len += in_space + 1;
				in_space = 0;
			}
		} else {
			line_len = (int64_t)len;
		}
		if (line_len == 0) {
			pending_empty += 2;
		} else {
			total += pending_empty + line_len + 2;
			pending_empty = 0;
		}
	}
	if (total == 0 && !relaxed)
		return 2; /* simple: an empty body is one CRLF */
	return total;
}

/* ---- verification ------------------------------------------------------- */

const char *dkim_verdict_name(enum dkim_verdict verdict)
{
	switch (verdict) {
	case DKIM_VERDICT_PASS: return "pass";
	case DKIM_VERDICT_FAIL: return "fail";
	case DKIM_VERDICT_TEMPERROR: return "temperror";
	case DKIM_VERDICT_PERMERROR: return "permerror";
	case DKIM_VERDICT_POLICY: return "policy";
	}
	return "permerror";
}

int dkim_verifier_open(struct dns_resolver *dns, const char *key_file,
		       int64_t fixed_time, struct dkim_verifier **verifier_r,
		       char **error_r)
{
	struct dkim_verifier *v = g_new0(struct dkim_verifier, 1);
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	unsigned int min_bits = 0;
	uint64_t when = (uint64_t)fixed_time;
	const char *required[] = {"from", NULL};

	v->lib = dkim_init(NULL, NULL);
	if (v->lib == NULL) {
		g_free(v);
		return imi_fail(error_r, IMI_ERROR, "cannot initialize libopendkim");
	}
	/* min_bits 0: the library's own key size check would also apply to
	 * Ed25519 keys (256 bits); RSA sizes are checked here instead. */
	if (dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits, sizeof(min_bits)) != DKIM_STAT_OK ||
	    dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_REQUIREDHDRS, (void *)required, sizeof(char **)) != DKIM_STAT_OK ||
	    (fixed_time > 0 &&
	     dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &when, sizeof(when)) != DKIM_STAT_OK))
		goto fail;
	if (key_file != NULL) {
		dkim_query_t method = DKIM_QUERY_FILE;
		if (dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof(method)) != DKIM_STAT_OK ||
		    dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, (void *)key_file, strlen(key_file)) != DKIM_STAT_OK)
			goto fail;
	} else if (dns != NULL) {
		dns_attach_dkim(dns, v->lib);
	}
	*verifier_r = v;
	return IMI_OK;
fail:
	dkim_close(v->lib);
	g_free(v);
	return imi_fail(error_r, IMI_ERROR, "cannot set libopendkim options");
}

void dkim_verifier_close(struct dkim_verifier **verifier)
{
	if (*verifier == NULL)
		return;
	dkim_close((*verifier)->lib);
	g_free(*verifier);
	*verifier = NULL;
}

static const char *dkim_algorithm_name(dkim_alg_t alg)
{
	switch (alg) {
	case DKIM_SIGN_RSASHA1: return "rsa-sha1";
	case DKIM_SIGN_RSASHA256: return "rsa-sha256";
	case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
	default: return "unknown";
	}
}

/* Verdict for a signature the library did not pass, from its error. */
static enum dkim_verdict dkim_verdict_of_error(int error)
{
	switch (error) {
	case DKIM_SIGERROR_KEYFAIL:
		return DKIM_VERDICT_TEMPERROR;
	case DKIM_SIGERROR_BADSIG:
		return DKIM_VERDICT_FAIL;
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_KEYTOOSMALL:
		return DKIM_VERDICT_POLICY;
	default:
		return DKIM_VERDICT_PERMERROR;
	}
}

static char **dkim_header_list(const char *h)
{
	char **names = g_strsplit(h != NULL ? h : "", ":", -1);
	GPtrArray *out = g_ptr_array_new();

	for (unsigned i = 0; names[i] != NULL; i++) {
		char *name = g_strstrip(names[i]);
		if (*name != '\0')
			g_ptr_array_add(out, g_ascii_strdown(name, -1));
	}
	g_strfreev(names);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static char **dkim_covered_list(char **signed_headers, GHashTable *counts)
{
	GHashTable *signed_counts = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key, value;

	for (unsigned i = 0; signed_headers[i] != NULL; i++) {
		unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(signed_counts, signed_headers[i]));
		g_hash_table_replace(signed_counts, signed_headers[i], GUINT_TO_POINTER(n + 1));
	}
	g_hash_table_iter_init(&iter, signed_counts);
	while (g_hash_table_iter_next(&iter, &key, &value))
		if (GPOINTER_TO_UINT(value) >= GPOINTER_TO_UINT(g_hash_table_lookup(counts, key)))
			g_ptr_array_add(out, g_strdup(key));
	g_hash_table_destroy(signed_counts);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

int dkim_signature_fresh(int64_t signed_at, int64_t now, int max_age_days)
{
	if (signed_at < 0 || max_age_days <= 0)
		return 1;
	return now - signed_at <= (int64_t)max_age_days * 86400;
}

int dkim_signature_covers(const struct dkim_signature *sig, const char *name)
{
	for (unsigned i = 0; sig->covered_headers != NULL && sig->covered_headers[i] != NULL; i++)
		if (g_ascii_strcasecmp(sig->covered_headers[i], name) == 0)
			return 1;
	return 0;
}

static void dkim_signature_set(struct dkim_signature *out, enum dkim_verdict verdict,
			       char *reason)
{
	out->verdict = verdict;
	g_free(out->reason);
	out->reason = reason;
}

/* Everything we need from one of the library's signatures. */
static void dkim_signature_read(DKIM *dkim, DKIM_SIGINFO *sig,
				const struct dkim_message *m, int64_t now,
				int max_age_days, struct dkim_signature *out)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int error = dkim_sig_geterror(sig);
	const unsigned char *value;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	dkim_canon_t hdr_canon, body_canon = DKIM_CANON_SIMPLE;
	unsigned int bits = 0;
	uint64_t when;
	ssize_t msglen = -1, canonlen = -1, signlen = -1;

	value = dkim_sig_getdomain(sig);
	out->domain = g_ascii_strdown(value != NULL ? (const char *)value : "", -1);
	value = dkim_sig_getselector(sig);
	out->selector = g_strdup(value != NULL ? (const char *)value : "");
	value = dkim_sig_gettagvalue(sig, FALSE, (u_char *)"i");
	out->identity = value != NULL ? g_strdup((const char *)value)
				      : g_strconcat("@", out->domain, NULL);
	(void)dkim_sig_getsignalg(sig, &alg);
	out->algorithm = g_strdup(dkim_algorithm_name(alg));
	out->signed_headers = dkim_header_list((const char *)dkim_sig_gettagvalue(sig, FALSE, (u_char *)"h"));
	out->covered_headers = dkim_covered_list(out->signed_headers, m->counts);
	out->timestamp = dkim_sig_getsigntime(sig, &when) == DKIM_STAT_OK ? (int64_t)when : -1;
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		out->key_bits = bits;
	(void)dkim_sig_getcanons(sig, &hdr_canon, &body_canon);
	if (dkim_sig_getcanonlen(dkim, sig, &msglen, &canonlen, &signlen) == DKIM_STAT_OK &&
	    signlen >= 0)
		out->body_length = signlen;
	else
		out->body_length = -1;

	/* RFC 6376 §8.15: with two From fields, which one a reader sees is
	 * not which one was signed; refused whatever the cryptography says. */
	if (m->from_count_excess) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup("the message has more than one From header field (RFC 6376 section 8.15)"));
		return;
	}

	/* What the library says. */
	if ((flags & DKIM_SIGFLAG_PASSED) == 0 || dkim_sig_getbh(sig) != DKIM_SIGBH_MATCH) {
		if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH &&
		    (error == DKIM_SIGERROR_OK || error == DKIM_SIGERROR_BADSIG))
			dkim_signature_set(out, DKIM_VERDICT_FAIL,
					   g_strdup("body hash does not match: the body was changed after signing"));
		else if (error == DKIM_SIGERROR_OK)
			dkim_signature_set(out, (flags & DKIM_SIGFLAG_PROCESSED) != 0
						   ? DKIM_VERDICT_FAIL : DKIM_VERDICT_PERMERROR,
					   g_strdup((flags & DKIM_SIGFLAG_PROCESSED) != 0
						    ? "signature does not verify"
						    : "signature was not verified"));
		else if (error == DKIM_SIGERROR_KEYTOOSMALL)
			dkim_signature_set(out, DKIM_VERDICT_POLICY,
					   g_strdup_printf("RSA key of %u bits is too short (at least %d, RFC 8301)",
							   bits, DKIM_MIN_RSA_BITS));
		else if (error == DKIM_SIGERROR_BADSIG)
			dkim_signature_set(out, DKIM_VERDICT_FAIL,
					   g_strdup("signature does not verify: a signed header field was changed after signing"));
		else
			dkim_signature_set(out, dkim_verdict_of_error(error),
					   g_strdup(dkim_sig_geterrorstr(error)));
		return;
	}

	/* The library passed it; our refusals. */
	if (alg == DKIM_SIGN_RSASHA1) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup("rsa-sha1 is no longer accepted (RFC 8301); sign with rsa-sha256 or ed25519-sha256"));
	} else if ((alg == DKIM_SIGN_RSASHA1 || alg == DKIM_SIGN_RSASHA256) &&
		   bits < DKIM_MIN_RSA_BITS) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup_printf("RSA key of %u bits is too short (at least %d, RFC 8301)",
						   bits, DKIM_MIN_RSA_BITS));
	} else if (alg != DKIM_SIGN_RSASHA256 && alg != DKIM_SIGN_ED25519SHA256) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup("unknown signing algorithm"));
	} else if (!dkim_signature_covers(out, "from")) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup("the From header field is not (fully) covered by the signature"));
	} else if (out->body_length >= 0 &&
		   out->body_length < dkim_canon_body_length(m, body_canon == DKIM_CANON_RELAXED)) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup_printf("l=%lld covers only part of the body (%lld octets): "
						   "text after it is not signed",
						   (long long)out->body_length,
						   (long long)dkim_canon_body_length(m, body_canon == DKIM_CANON_RELAXED)));
	} else if (!dkim_signature_fresh(out->timestamp, now, max_age_days)) {
		dkim_signature_set(out, DKIM_VERDICT_POLICY,
				   g_strdup_printf("signature is %lld days old (t=), more than the %d accepted: "
						   "an old message sent again",
						   (long long)((now - out->timestamp) / 86400), max_age_days));
	} else {
		dkim_signature_set(out, DKIM_VERDICT_PASS, g_strdup("signature verified"));
	}
}

int dkim_verify_message(struct dkim_verifier *verifier, const char *message,
			size_t len, int64_t now, int max_age_days,
			struct dkim_result **result_r, char **error_r)
{
	struct dkim_message m = {0};
	struct dkim_result *result;
	DKIM *dkim = NULL;
	DKIM_STAT status;
	DKIM_SIGINFO **sigs = NULL;
	int n_sigs = 0, ret;

	if ((ret = dkim_message_split(message, len, &m, error_r)) != IMI_OK) {
		dkim_message_clear(&m);
		return ret;
	}
	result = g_new0(struct dkim_result, 1);
	result->from_count = GPOINTER_TO_UINT(g_hash_table_lookup(m.counts, "from"));
	m.from_count_excess = result->from_count > 1;
	if (m.signatures == 0)
		goto done;

	dkim = dkim_verify(verifier->lib, (const unsigned char *)"imi", NULL, &status);
	if (dkim == NULL) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "cannot start DKIM verification: %s",
			       dkim_getresultstr(status));
		goto fail;
	}
	for (unsigned i = 0; i < m.fields->len; i++) {
		const char *field = m.fields->pdata[i];
		status = dkim_header(dkim, (unsigned char *)field, strlen(field));
		if (status != DKIM_STAT_OK && status != DKIM_STAT_SYNTAX) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "DKIM header processing failed: %s",
				       dkim_getresultstr(status));
			goto fail;
		}
	}
	status = dkim_eoh(dkim);
	if (status == DKIM_STAT_OK) {
		if (m.body_len > 0)
			(void)dkim_feed_body(dkim, &m);
		(void)dkim_eom(dkim, NULL);
	}
	if (dkim_getsiglist(dkim, &sigs, &n_sigs) != DKIM_STAT_OK)
		n_sigs = 0;
	if (n_sigs > DKIM_MAX_SIGNATURES)
		n_sigs = DKIM_MAX_SIGNATURES; /* cannot happen: counted above */
	result->signatures = g_new0(struct dkim_signature, MAX((size_t)n_sigs, m.signatures));
	for (int i = 0; i < n_sigs; i++)
		dkim_signature_read(dkim, sigs[i], &m, now, max_age_days,
				    &result->signatures[result->n_signatures++]);
	/* Fields the library could not even parse are still signatures that
	 * failed, and an operator should see them. */
	while (result->n_signatures < m.signatures) {
		struct dkim_signature *s = &result->signatures[result->n_signatures++];
		s->domain = g_strdup("");
		s->selector = g_strdup("");
		s->algorithm = g_strdup("unknown");
		s->identity = g_strdup("");
		s->verdict = m.from_count_excess ? DKIM_VERDICT_POLICY : DKIM_VERDICT_PERMERROR;
		s->reason = g_strdup(m.from_count_excess
				     ? "the message has more than one From header field (RFC 6376 section 8.15)"
				     : "a DKIM-Signature field could not be parsed");
		s->signed_headers = g_new0(char *, 1);
		s->covered_headers = g_new0(char *, 1);
		s->timestamp = -1;
		s->body_length = -1;
	}
done:
	if (dkim != NULL)
		dkim_free(dkim);
	dkim_message_clear(&m);
	*result_r = result;
	return IMI_OK;
fail:
	if (dkim != NULL)
		dkim_free(dkim);
	dkim_message_clear(&m);
	dkim_result_free(&result);
	return ret;
}

void dkim_result_free(struct dkim_result **result)
{
	if (*result == NULL)
		return;
	for (unsigned i = 0; i < (*result)->n_signatures; i++) {
		struct dkim_signature *s = &(*result)->signatures[i];
		g_free(s->domain);
		g_free(s->selector);
		g_free(s->algorithm);
		g_free(s->identity);
		g_free(s->reason);
		g_strfreev(s->signed_headers);
		g_strfreev(s->covered_headers);
	}
	g_free((*result)->signatures);
	g_free(*result);
	*result = NULL;
}

/* ---- signing ------------------------------------------------------------ */

/* RSA or Ed25519, from the PEM label or the algorithm OID in the PKCS#8
 * structure.  Returns a DKIM_SIGN_* or DKIM_SIGN_UNKNOWN. */
static dkim_alg_t dkim_key_algorithm(const char *pem)
{
	static const unsigned char oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	static const unsigned char oid_rsa[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
						0xf7, 0x0d, 0x01, 0x01, 0x01};
	const char *begin, *end;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	unsigned char *der;
	gsize der_len;
	char *b64;

	if (strstr(pem, "-----BEGIN RSA PRIVATE KEY-----") != NULL)
		return DKIM_SIGN_RSASHA256;
	begin = strstr(pem, "-----BEGIN PRIVATE KEY-----");
	if (begin == NULL)
		return DKIM_SIGN_UNKNOWN;
	begin += strlen("-----BEGIN PRIVATE KEY-----");
	end = strstr(begin, "-----END PRIVATE KEY-----");
	if (end == NULL)
		return DKIM_SIGN_UNKNOWN;
	b64 = g_strndup(begin, (gsize)(end - begin));
	der = g_base64_decode(b64, &der_len);
	g_free(b64);
	if (der_len >= sizeof(oid_rsa) && memmem(der, MIN(der_len, 32), oid_rsa, sizeof(oid_rsa)) != NULL)
		alg = DKIM_SIGN_RSASHA256;
	else if (der_len >= sizeof(oid_ed25519) &&
		 memmem(der, MIN(der_len, 16), oid_ed25519, sizeof(oid_ed25519)) != NULL)
		alg = DKIM_SIGN_ED25519SHA256;
	g_free(der);
	return alg;
}

int dkim_sign_message(const char *selector, const char *domain,
		      const char *key_path, const char *message, size_t len,
		      const struct dkim_sign_options *options, char **header_r,
		      char **error_r)
{
	static const struct dkim_sign_options defaults = {0};
	/* Signed once more than present, so that none can be added later. */
	const char *oversign[] = {"from", "to", "cc", "subject", "date", "reply-to",
				  "message-id", "in-reply-to", "references", NULL};
	struct dkim_message m = {0};
	DKIM_LIB *lib = NULL;
	DKIM *dkim = NULL;
	DKIM_STAT status;
	dkim_alg_t alg;
	char *key = NULL;
	gsize key_len;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	unsigned int min_bits;
	int ret;
	GError *gerr = NULL;

	if (options == NULL)
		options = &defaults;
	min_bits = options->min_key_bits > 0 ? options->min_key_bits : DKIM_MIN_RSA_BITS;
	if (!g_file_get_contents(key_path, &key, &key_len, &gerr)) {
		ret = imi_fail(error_r, IMI_ERROR, "cannot read the DKIM key: %s", gerr->message);
		g_error_free(gerr);
		return ret;
	}
	if (key_len > DKIM_KEY_MAX_BYTES ||
	    (alg = dkim_key_algorithm(key)) == DKIM_SIGN_UNKNOWN) {
		g_free(key);
		return imi_fail(error_r, IMI_INVALID,
				"%s is not a PEM RSA or Ed25519 private key", key_path);
	}
	if (alg == DKIM_SIGN_ED25519SHA256)
		min_bits = 0; /* the library counts 256 bits for Ed25519 */
	else if (options->rsa_sha1)
		alg = DKIM_SIGN_RSASHA1;
	if (options->body_length)
		flags |= DKIM_LIBFLAGS_SIGNLEN;
	if ((ret = dkim_message_split(message, len, &m, error_r)) != IMI_OK)
		goto out;

	lib = dkim_init(NULL, NULL);
	if (lib == NULL) {
		ret = imi_fail(error_r, IMI_ERROR, "cannot initialize libopendkim");
		goto out;
	}
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits, sizeof(min_bits)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, (void *)oversign, sizeof(char **)) != DKIM_STAT_OK) {
		ret = imi_fail(error_r, IMI_ERROR, "cannot set libopendkim options");
		goto out;
	}
	if (options->time > 0) {
		uint64_t when = (uint64_t)options->time;
		(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &when, sizeof(when));
	}
	if (options->lifetime > 0) {
		uint64_t ttl = (uint64_t)options->lifetime;
		(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &ttl, sizeof(ttl));
	}
	dkim = dkim_sign(lib, (const unsigned char *)"imi", NULL, (dkim_sigkey_t)key,
			 (const unsigned char *)selector, (const unsigned char *)domain,
			 options->simple ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
			 options->simple ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
			 alg, -1, &status);
	if (dkim == NULL) {
		ret = imi_fail(error_r, IMI_ERROR, "cannot start DKIM signing: %s",
			       dkim_getresultstr(status));
		goto out;
	}
	/* With simple header canonicalization the signature covers its own
	 * header byte for byte, and libopendkim may fold the final header
	 * differently from the copy it hashed (seen with Ed25519): no folding
	 * at all keeps the two identical. */
	if (options->simple)
		(void)dkim_set_margin(dkim, 0);
	for (unsigned i = 0; i < m.fields->len; i++) {
		const char *field = m.fields->pdata[i];
		if ((status = dkim_header(dkim, (unsigned char *)field, strlen(field))) != DKIM_STAT_OK)
			break;
	}
	if (status == DKIM_STAT_OK)
		status = dkim_eoh(dkim);
	if (status == DKIM_STAT_OK && m.body_len > 0)
		status = dkim_feed_body(dkim, &m);
	if (status == DKIM_STAT_OK)
		status = dkim_eom(dkim, NULL);
	if (status == DKIM_STAT_OK)
		status = dkim_getsighdr_d(dkim, strlen(DKIM_SIGNATURE_HEADER) + 2, &sig, &sig_len);
	if (status != DKIM_STAT_OK) {
		const char *why = dkim_geterror(dkim);
		ret = imi_fail(error_r, IMI_ERROR, "DKIM signing failed: %s%s%s",
			       dkim_getresultstr(status), why != NULL ? ": " : "",
			       why != NULL ? why : "");
		goto out;
	}
	{
		GString *header = g_string_new(DKIM_SIGNATURE_HEADER ": ");
		for (size_t i = 0; i < sig_len; i++)
			if (sig[i] != '\r')
				g_string_append_c(header, (char)sig[i]);
		*header_r = g_string_free(header, FALSE);
	}
	ret = IMI_OK;
out:
	if (dkim != NULL)
		dkim_free(dkim);
	if (lib != NULL)
		dkim_close(lib);
	dkim_message_clear(&m);
	if (key != NULL)
		sodium_memzero(key, key_len);
	g_free(key);
	return ret;
}

/*
 * floor.c: the CPU floor of one inbound message, for the per-message cost
 * benchmark (tools/bench/permsg.sh, docs/performance.md): what any verifier
 * must do with the message, measured as `imi deliver` is (callgrind, one
 * process).
 *
 *   floor MESSAGE KEYFILE [STAGES]
 *
 * STAGES (default "dkim,gmime"): "dkim" verifies the message's DKIM
 * signature with libopendkim, the key read from KEYFILE (one line
 * "sel._domainkey.domain v=DKIM1; k=rsa; p=...") instead of DNS: header and
 * body canonicalization, one SHA-256 pass over the body, one over the signed
 * headers, one RSA verification; "gmime" parses it with GMime
 * (g_mime_parser_construct_message); "none" only reads the file.
 *
 * How it fails: prints what failed and exits 1 (a signature that does not
 * pass is a failure: the floor must have done the whole verification).
 * What it trusts: its arguments.
 */
#include <gmime/gmime.h>
#include <opendkim/dkim.h>
#include <stdio.h>
#include <string.h>

static int floor_dkim(const char *msg, size_t len, const char *key_file)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	DKIM *dkim;
	DKIM_SIGINFO **sigs = NULL;
	DKIM_STAT status;
	dkim_query_t method = DKIM_QUERY_FILE;
	int n_sigs = 0, ok = 0;
	GString *crlf = g_string_sized_new(len + len / 32);
	size_t i;

	/* SMTP's line ends, as an MTA's filter sees the message. */
	for (i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			g_string_append_c(crlf, '\r');
		g_string_append_c(crlf, msg[i]);
	}

	if (lib == NULL ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof(method)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, (void *)key_file, strlen(key_file)) != DKIM_STAT_OK) {
		fprintf(stderr, "floor: libopendkim setup failed\n");
		g_string_free(crlf, TRUE);
		return 1;
	}
	dkim = dkim_verify(lib, (const unsigned char *)"floor", NULL, &status);
	if (dkim != NULL) {
		status = dkim_chunk(dkim, (unsigned char *)crlf->str, crlf->len);
		if (status == DKIM_STAT_OK)
			status = dkim_chunk(dkim, NULL, 0);
		if (status == DKIM_STAT_OK)
			status = dkim_eom(dkim, NULL);
		if (status == DKIM_STAT_OK &&
		    dkim_getsiglist(dkim, &sigs, &n_sigs) == DKIM_STAT_OK && n_sigs >= 1 &&
		    (dkim_sig_getflags(sigs[0]) & DKIM_SIGFLAG_PASSED) != 0 &&
		    dkim_sig_getbh(sigs[0]) == DKIM_SIGBH_MATCH)
			ok = 1;
		dkim_free(dkim);
	}
	dkim_close(lib);
	g_string_free(crlf, TRUE);
	if (!ok)
		fprintf(stderr, "floor: the DKIM signature did not pass (status %d)\n", (int)status);
	return ok ? 0 : 1;
}

static int floor_gmime(const char *msg, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	int ok = m != NULL && g_mime_message_get_mime_part(m) != NULL;

	if (m != NULL)
		g_object_unref(m);
	g_object_unref(parser);
	g_object_unref(stream);
	if (!ok)
		fprintf(stderr, "floor: GMime did not parse the message\n");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *stages = argc > 3 ? argv[3] : "dkim,gmime";
	char *msg = NULL;
	gsize len = 0;
	int ret = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: floor MESSAGE KEYFILE [dkim,gmime|none]\n");
		return 2;
	}
	if (!g_file_get_contents(argv[1], &msg, &len, NULL)) {
		fprintf(stderr, "floor: cannot read %s\n", argv[1]);
		return 1;
	}
	if (strstr(stages, "dkim") != NULL)
		ret |= floor_dkim(msg, len, argv[2]);
	if (strstr(stages, "gmime") != NULL) {
		g_mime_init();
		ret |= floor_gmime(msg, len);
		g_mime_shutdown();
	}
	g_free(msg);
	return ret;
}

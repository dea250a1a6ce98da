/*
 * recipient.c: service address or not.
 */
#include "mta-hooks/recipient.h"

#include <string.h>

#include "parser/token.h"
#include "util/util.h"

char *recipient_bare(const char *address)
{
	char *s = g_strstrip(g_strdup(address));
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

/* The shape of REF.ACTION.EXPIRY.MAC (token.h): four dot-separated words of
 * lower-case letters, digits and '-'. */
static int recipient_token_shaped(const char *token)
{
	unsigned dots = 0;
	char prev = '.';

	for (const char *p = token; *p != '\0'; p++) {
		if (*p == '.') {
			if (prev == '.')
				return 0;
			dots++;
		} else if (!g_ascii_isalnum(*p) && *p != '-')
			return 0;
		prev = *p;
	}
	return dots == 3 && prev != '.';
}

enum recipient_kind recipient_classify(const struct imi_conf *conf,
				       const char *address)
{
	static const char *const roles[] = {"postmaster", "abuse"};
	enum recipient_kind kind = RECIPIENT_UNKNOWN;
	char *bare = recipient_bare(address), *token = NULL, *error = NULL;
	const char *at = strrchr(bare, '@');
	size_t local_len;

	if (at == NULL) {
		/* RCPT TO:<postmaster> without a domain (RFC 5321). */
		kind = RECIPIENT_OTHER;
		goto out;
	}
	if (g_ascii_strcasecmp(at + 1, conf->service_domain) != 0) {
		kind = RECIPIENT_OTHER;
		goto out;
	}
	local_len = (size_t)(at - bare);
	if (strlen(bare) > RECIPIENT_MAX_ADDRESS || local_len > TOKEN_MAX_LOCAL_PART)
		goto out;
	for (unsigned i = 0; i < G_N_ELEMENTS(roles); i++)
		if (local_len == strlen(roles[i]) &&
		    g_ascii_strncasecmp(bare, roles[i], local_len) == 0) {
			kind = RECIPIENT_OTHER;
			goto out;
		}
	if (local_len == strlen(conf->service_local) &&
	    g_ascii_strncasecmp(bare, conf->service_local, local_len) == 0) {
		kind = RECIPIENT_SERVICE;
		goto out;
	}
	if (token_parse_address(bare, conf->service_local, RECIPIENT_DELIMITERS,
				&token, &error) == IMI_OK &&
	    recipient_token_shaped(token))
		kind = RECIPIENT_SERVICE;
out:
	g_free(token);
	g_free(error);
	g_free(bare);
	return kind;
}

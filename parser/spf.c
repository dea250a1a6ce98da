/*
 * spf.c: libspf2 over our DNS layer.  See spf.h.
 */
#include "parser/spf.h"

#include <arpa/inet.h>
#include <string.h>

struct spf_checker {
	SPF_server_t *server;
	SPF_dns_server_t *layer;  /* ours: libspf2 does not free it */
};

static void spf_log_silent(const char *file, int line, const char *text)
{
}

const char *spf_verdict_name(enum spf_verdict verdict)
{
	switch (verdict) {
	case SPF_VERDICT_NONE: return "none";
	case SPF_VERDICT_NEUTRAL: return "neutral";
	case SPF_VERDICT_PASS: return "pass";
	case SPF_VERDICT_FAIL: return "fail";
	case SPF_VERDICT_SOFTFAIL: return "softfail";
	case SPF_VERDICT_TEMPERROR: return "temperror";
	case SPF_VERDICT_PERMERROR: return "permerror";
	}
	return "permerror";
}

int spf_checker_open(struct dns_resolver *dns, const char *our_domain,
		     struct spf_checker **checker_r, char **error_r)
{
	struct spf_checker *checker = g_new0(struct spf_checker, 1);

	/* The error handler stays: libspf2 calls it only for broken
	 * invariants, and it does not return. */
	SPF_warning_handler = spf_log_silent;
	SPF_info_handler = spf_log_silent;
	SPF_debug_handler = spf_log_silent;
	checker->layer = dns_spf_layer(dns);
	checker->server = SPF_server_new_dns(checker->layer, 0);
	if (checker->server == NULL) {
		dns_spf_layer_free(&checker->layer);
		g_free(checker);
		return imi_fail(error_r, IMI_ERROR, "cannot create the SPF checker");
	}
	if (our_domain != NULL && *our_domain != '\0')
		(void)SPF_server_set_rec_dom(checker->server, our_domain);
	*checker_r = checker;
	return IMI_OK;
}

void spf_checker_close(struct spf_checker **checker)
{
	if (*checker == NULL)
		return;
	SPF_server_free((*checker)->server);
	dns_spf_layer_free(&(*checker)->layer);
	g_free(*checker);
	*checker = NULL;
}

static enum spf_verdict spf_verdict_of(SPF_result_t result)
{
	switch (result) {
	case SPF_RESULT_NEUTRAL: return SPF_VERDICT_NEUTRAL;
	case SPF_RESULT_PASS: return SPF_VERDICT_PASS;
	case SPF_RESULT_FAIL: return SPF_VERDICT_FAIL;
	case SPF_RESULT_SOFTFAIL: return SPF_VERDICT_SOFTFAIL;
	case SPF_RESULT_NONE: return SPF_VERDICT_NONE;
	case SPF_RESULT_TEMPERROR: return SPF_VERDICT_TEMPERROR;
	default: return SPF_VERDICT_PERMERROR;
	}
}

int spf_check(struct spf_checker *checker, const char *client_ip,
	      const char *helo, const char *sender, struct spf_result **result_r,
	      char **error_r)
{
	struct spf_result *result;
	SPF_request_t *request;
	SPF_response_t *response = NULL;
	struct in6_addr addr6;
	struct in_addr addr4;
	const char *text, *at;
	int trouble;
	int use_helo = sender == NULL || *sender == '\0' || strcmp(sender, "<>") == 0;

	if (client_ip == NULL ||
	    (inet_pton(AF_INET, client_ip, &addr4) != 1 &&
	     inet_pton(AF_INET6, client_ip, &addr6) != 1))
		return imi_fail(error_r, IMI_INVALID, "client IP \"%s\" is not an IPv4 or IPv6 address",
				client_ip != NULL ? client_ip : "");
	result = g_new0(struct spf_result, 1);
	result->identity = g_strdup(use_helo ? "helo" : "mailfrom");
	if (use_helo && (helo == NULL || *helo == '\0')) {
		/* Nothing to check: an empty sender and no HELO name. */
		result->verdict = SPF_VERDICT_NONE;
		result->domain = g_strdup("");
		result->sender = g_strdup("");
		result->comment = g_strdup("no envelope sender and no HELO name to check");
		result->received_spf = g_strdup_printf("none (no identity to check) client-ip=%s;", client_ip);
		*result_r = result;
		return IMI_OK;
	}

	request = SPF_request_new(checker->server);
	if (strchr(client_ip, ':') != NULL)
		SPF_request_set_ipv6_str(request, client_ip);
	else
		SPF_request_set_ipv4_str(request, client_ip);
	if (helo != NULL && *helo != '\0')
		SPF_request_set_helo_dom(request, helo);
	/* With an empty sender, libspf2 checks postmaster@HELO (RFC 7208
	 * §2.4). */
	SPF_request_set_env_from(request, use_helo ? helo : sender);
	(void)dns_spf_trouble_take();
	SPF_request_query_mailfrom(request, &response);
	trouble = dns_spf_trouble_take();

	result->sender = g_strdup(use_helo ? helo : sender);
	at = strrchr(result->sender, '@');
	result->domain = g_ascii_strdown(at != NULL ? at + 1 : result->sender, -1);
	if (response != NULL) {
		/* Any DNS trouble on the way makes the result temperror (RFC
		 * 7208 §2.6.6), whatever libspf2 made of the missing answer. */
		result->verdict = trouble ? SPF_VERDICT_TEMPERROR
					  : spf_verdict_of(SPF_response_result(response));
		text = SPF_response_get_header_comment(response);
		result->comment = trouble ? g_strdup("a DNS lookup failed; try again later")
				: g_strdup(text != NULL ? text : SPF_strresult(SPF_response_result(response)));
		text = SPF_response_get_received_spf_value(response);
		result->received_spf = trouble ? g_strdup_printf("temperror (DNS lookup failed) client-ip=%s;", client_ip)
					       : g_strdup(text != NULL ? text : "");
		SPF_response_free(response);
	} else {
		result->verdict = SPF_VERDICT_TEMPERROR;
		result->comment = g_strdup("SPF check could not run");
		result->received_spf = g_strdup("temperror");
	}
	SPF_request_free(request);
	*result_r = result;
	return IMI_OK;
}

void spf_result_free(struct spf_result **result)
{
	if (*result == NULL)
		return;
	g_free((*result)->identity);
	g_free((*result)->domain);
	g_free((*result)->sender);
	g_free((*result)->comment);
	g_free((*result)->received_spf);
	g_free(*result);
	*result = NULL;
}

/*
 * dns.c: queries over our own sockets, and the glue that makes libopendkim
 * and libspf2 use them.  See dns.h.
 */
#include "parser/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <resolv.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNS_HEADER_BYTES 12
#define DNS_MAX_NAME 255          /* presentation form, without the final dot */
#define DNS_MAX_QUERY (DNS_HEADER_BYTES + DNS_MAX_NAME + 2 + 4)
#define DNS_UDP_REPLY 4096        /* UDP buffer; a bigger reply would be truncated */
#define DNS_MAX_ANSWERS 100       /* answer records looked at per reply (SPF layer) */
#define DNS_MAX_STRAY_REPLIES 16  /* mismatched UDP datagrams ignored per try */
#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLV_CONF_MAX_LINES 200

struct dns_server {
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct dns_resolver {
	struct dns_server servers[DNS_MAX_SERVERS];
	unsigned n_servers;
	int timeout_ms;
	char *description;        /* "127.0.0.1:5353" or "1.2.3.4:53, ..." */
};

/* ---- configuration ------------------------------------------------------ */

/* "ip", "ip:port", "[ipv6]", "[ipv6]:port", or a bare IPv6 address. */
static int dns_server_parse(const char *text, struct dns_server *server,
			    char **error_r)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text = NULL, *end;
	size_t host_len;
	unsigned long port = 53;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&server->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&server->addr;

	memset(server, 0, sizeof(*server));
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (end == NULL)
			goto bad;
		host_len = (size_t)(end - text - 1);
		memcpy(host, text + 1, MIN(host_len, sizeof(host) - 1));
		if (end[1] == ':')
			port_text = end + 2;
		else if (end[1] != '\0')
			goto bad;
		text++;
	} else if (strchr(text, ':') != NULL && strchr(text, ':') == strrchr(text, ':')) {
		end = strchr(text, ':');
		host_len = (size_t)(end - text);
		memcpy(host, text, MIN(host_len, sizeof(host) - 1));
		port_text = end + 1;
	} else {
		host_len = strlen(text);
		memcpy(host, text, MIN(host_len, sizeof(host) - 1));
	}
	if (host_len >= sizeof(host))
		goto bad;
	host[host_len] = '\0';
	if (port_text != NULL) {
		char *stop;
		errno = 0;
		port = strtoul(port_text, &stop, 10);
		if (errno != 0 || *stop != '\0' || port == 0 || port > 65535)
			goto bad;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		server->addr_len = sizeof(*in4);
		return IMI_OK;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		server->addr_len = sizeof(*in6);
		return IMI_OK;
	}
bad:
	return imi_fail(error_r, IMI_INVALID,
			"dns_server \"%s\" is not an IP address with an optional "
			"port (e.g. 127.0.0.1:5353 or [::1]:53)", text);
}

static void dns_server_describe(const struct dns_server *server, GString *out)
{
	char host[INET6_ADDRSTRLEN];

	if (server->addr.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)&server->addr;
		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		g_string_append_printf(out, "%s:%u", host, ntohs(in4->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&server->addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		g_string_append_printf(out, "[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

static int dns_read_resolv_conf(struct dns_resolver *resolver, char **error_r)
{
	char *text = NULL, **lines;
	unsigned n = 0;

	if (g_file_get_contents(RESOLV_CONF, &text, NULL, NULL)) {
		lines = g_strsplit(text, "\n", RESOLV_CONF_MAX_LINES);
		for (unsigned i = 0; lines[i] != NULL && n < DNS_MAX_SERVERS; i++) {
			char **words = g_strsplit_set(g_strstrip(lines[i]), " \t", 3);
			if (words[0] != NULL && strcmp(words[0], "nameserver") == 0 &&
			    words[1] != NULL &&
			    dns_server_parse(words[1], &resolver->servers[n], NULL) == IMI_OK)
				n++;
			g_strfreev(words);
		}
		g_strfreev(lines);
		g_free(text);
	}
	if (n == 0 && dns_server_parse("127.0.0.1", &resolver->servers[n++],
				       error_r) != IMI_OK)
		return IMI_ERROR;
	resolver->n_servers = n;
	return IMI_OK;
}

int dns_resolver_new(const char *server, int timeout_ms,
		     struct dns_resolver **resolver_r, char **error_r)
{
	struct dns_resolver *resolver = g_new0(struct dns_resolver, 1);
	GString *desc = g_string_new(NULL);
	int ret;

	resolver->timeout_ms = timeout_ms > 0 ? timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	if (server != NULL && *server != '\0') {
		ret = dns_server_parse(server, &resolver->servers[0], error_r);
		resolver->n_servers = 1;
	} else {
		ret = dns_read_resolv_conf(resolver, error_r);
	}
	if (ret != IMI_OK) {
		g_string_free(desc, TRUE);
		g_free(resolver);
		return ret;
	}
	for (unsigned i = 0; i < resolver->n_servers; i++) {
		if (i > 0)
			g_string_append(desc, ", ");
		dns_server_describe(&resolver->servers[i], desc);
	}
	resolver->description = g_string_free(desc, FALSE);
	*resolver_r = resolver;
	return IMI_OK;
}

void dns_resolver_free(struct dns_resolver **resolver)
{
	if (*resolver == NULL)
		return;
	g_free((*resolver)->description);
	g_free(*resolver);
	*resolver = NULL;
}

const char *dns_resolver_describe(const struct dns_resolver *resolver)
{
	return resolver->description;
}

/* ---- one query ---------------------------------------------------------- */

static int64_t dns_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Builds the query; returns its length, or 0 for a name we refuse. */
static size_t dns_build_query(const char *name, int type, uint16_t id,
			      unsigned char *out)
{
	size_t pos = DNS_HEADER_BYTES, name_len = strlen(name);
	const char *label = name;

	if (name_len > 0 && name[name_len - 1] == '.')
		name_len--;
	if (name_len == 0 || name_len > DNS_MAX_NAME)
		return 0;
	memset(out, 0, DNS_HEADER_BYTES);
	out[0] = id >> 8;
	out[1] = id & 0xff;
	out[2] = 0x01;            /* RD: we ask a recursive resolver */
	out[5] = 1;               /* QDCOUNT */
	while (label < name + name_len) {
		const char *dot = memchr(label, '.', (size_t)(name + name_len - label));
		size_t len = (dot != NULL ? dot : name + name_len) - label;
		if (len == 0 || len > 63)
			return 0;
		out[pos++] = (unsigned char)len;
		memcpy(out + pos, label, len);
		pos += len;
		label += len + 1;
	}
	out[pos++] = 0;
	out[pos++] = (unsigned char)(type >> 8);
	out[pos++] = (unsigned char)type;
	out[pos++] = 0;
	out[pos++] = ns_c_in;
	return pos;
}

/* Does the reply answer this query: same id, QR set, same question (names
 * compared without regard to case)? */
static int dns_reply_matches(const unsigned char *query, size_t query_len,
			     const unsigned char *reply, size_t reply_len)
{
	if (reply_len < query_len || reply[0] != query[0] || reply[1] != query[1] ||
	    (reply[2] & 0x80) == 0 || reply[4] != 0 || reply[5] != 1)
		return 0;
	for (size_t i = DNS_HEADER_BYTES; i < query_len; i++)
		if (g_ascii_tolower(reply[i]) != g_ascii_tolower(query[i]))
			return 0;
	return 1;
}

/* Waits for fd until the deadline; 1 ready, 0 timed out, -1 error. */
static int dns_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - dns_clock_ms();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* UDP: returns the reply length, 0 on timeout, -1 on a socket error. */
static ssize_t dns_udp(const struct dns_server *server, const unsigned char *query,
		       size_t query_len, unsigned char *reply, size_t size,
		       int64_t deadline)
{
	int fd = socket(server->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&server->addr, server->addr_len) < 0 ||
	    send(fd, query, query_len, 0) != (ssize_t)query_len)
		goto out;
	for (int stray = 0; stray < DNS_MAX_STRAY_REPLIES; stray++) {
		int ready = dns_wait(fd, POLLIN, deadline);
		if (ready <= 0) {
			n = ready;
			goto out;
		}
		n = recv(fd, reply, size, 0);
		if (n < 0) {
			/* ICMP port unreachable: nobody listens there. */
			goto out;
		}
		if (dns_reply_matches(query, query_len, reply, (size_t)n))
			goto out;
	}
	n = 0;
out:
	close(fd);
	return n;
}

static int dns_io_all(int fd, void *buf, size_t len, int writing, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;
		if (dns_wait(fd, writing ? POLLOUT : POLLIN, deadline) <= 0)
			return -1;
		n = writing ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
			    : recv(fd, (char *)buf + done, len - done, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* TCP (RFC 7766 framing): reply length, or -1; -2 when it does not fit. */
static ssize_t dns_tcp(const struct dns_server *server, const unsigned char *query,
		       size_t query_len, unsigned char *reply, size_t size,
		       int64_t deadline)
{
	int fd = socket(server->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unsigned char frame[2 + DNS_MAX_QUERY], len_bytes[2];
	ssize_t ret = -1;
	size_t reply_len;
	int err = 0;
	socklen_t err_len = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&server->addr, server->addr_len) < 0) {
		if (errno != EINPROGRESS || dns_wait(fd, POLLOUT, deadline) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err != 0)
			goto out;
	}
	frame[0] = (unsigned char)(query_len >> 8);
	frame[1] = (unsigned char)query_len;
	memcpy(frame + 2, query, query_len);
	if (dns_io_all(fd, frame, query_len + 2, 1, deadline) < 0 ||
	    dns_io_all(fd, len_bytes, 2, 0, deadline) < 0)
		goto out;
	reply_len = (size_t)len_bytes[0] << 8 | len_bytes[1];
	if (reply_len > size) {
		ret = -2;
		goto out;
	}
	if (dns_io_all(fd, reply, reply_len, 0, deadline) < 0 ||
	    !dns_reply_matches(query, query_len, reply, reply_len))
		goto out;
	ret = (ssize_t)reply_len;
out:
	close(fd);
	return ret;
}

int dns_query(struct dns_resolver *resolver, const char *name, int type,
	      unsigned char *reply, size_t size, size_t *len_r, int *rcode_r,
	      char **error_r)
{
	unsigned char query[DNS_MAX_QUERY];
	unsigned char *udp_reply = g_malloc(DNS_UDP_REPLY);
	int64_t deadline = dns_clock_ms() + resolver->timeout_ms;
	uint16_t id;
	size_t query_len;
	const char *trouble = "no answer";
	int ret = IMI_TEMPFAIL;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)g_random_int();
	query_len = dns_build_query(name, type, id, query);
	if (query_len == 0) {
		g_free(udp_reply);
		return imi_fail(error_r, IMI_INVALID, "\"%s\" is not a valid DNS name", name);
	}
	for (unsigned i = 0; i < resolver->n_servers; i++) {
		const struct dns_server *server = &resolver->servers[i];
		/* Each server gets its share of what is left of the deadline. */
		int64_t server_deadline = dns_clock_ms() +
			(deadline - dns_clock_ms()) / (resolver->n_servers - i);
		ssize_t n = dns_udp(server, query, query_len, udp_reply, DNS_UDP_REPLY,
				    server_deadline);
		int rcode;

		if (n <= 0) {
			trouble = n == 0 ? "no answer (timeout)" : "no answer (connection refused)";
			continue;
		}
		if ((udp_reply[2] & 0x02) != 0) {
			/* Truncated: ask again over TCP for the whole answer. */
			n = dns_tcp(server, query, query_len, reply, size, server_deadline);
			if (n == -2) {
				g_free(udp_reply);
				return imi_fail(error_r, IMI_TOOBIG,
						"DNS reply for %s is larger than %zu bytes",
						name, size);
			}
			if (n <= 0) {
				trouble = "truncated UDP answer and no answer over TCP";
				continue;
			}
		} else {
			if ((size_t)n > size) {
				g_free(udp_reply);
				return imi_fail(error_r, IMI_TOOBIG,
						"DNS reply for %s is larger than %zu bytes",
						name, size);
			}
			memcpy(reply, udp_reply, (size_t)n);
		}
		rcode = reply[3] & 0x0f;
		if (rcode != ns_r_noerror && rcode != ns_r_nxdomain) {
			trouble = rcode == ns_r_servfail ? "SERVFAIL" :
				  rcode == ns_r_refused ? "REFUSED" : "an error code";
			continue;
		}
		*len_r = (size_t)n;
		*rcode_r = rcode;
		ret = IMI_OK;
		break;
	}
	g_free(udp_reply);
	if (ret != IMI_OK)
		return imi_fail(error_r, IMI_TEMPFAIL,
				"DNS server %s gave %s for %s; try again later",
				resolver->description, trouble, name);
	return IMI_OK;
}

int dns_txt(struct dns_resolver *resolver, const char *name, char ***txt_r,
	    char **error_r)
{
	unsigned char *reply = g_malloc(DNS_MAX_REPLY);
	GPtrArray *txt = g_ptr_array_new();
	size_t len;
	int rcode, ret;
	ns_msg msg;
	ns_rr rr;

	ret = dns_query(resolver, name, ns_t_txt, reply, DNS_MAX_REPLY, &len,
			&rcode, error_r);
	if (ret != IMI_OK)
		goto out;
	if (rcode == ns_r_nxdomain) {
		ret = imi_fail(error_r, IMI_NOTFOUND, "%s does not exist in DNS", name);
		goto out;
	}
	if (ns_initparse(reply, (int)len, &msg) < 0) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "DNS reply for %s is malformed", name);
		goto out;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && i < DNS_MAX_ANSWERS &&
			txt->len < DNS_MAX_TXT; i++) {
		const unsigned char *p, *end;
		GString *joined;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "DNS reply for %s is malformed", name);
			goto out;
		}
		if (ns_rr_type(rr) != ns_t_txt)
			continue;
		p = ns_rr_rdata(rr);
		end = p + ns_rr_rdlen(rr);
		joined = g_string_new(NULL);
		while (p < end) {
			size_t n = *p++;
			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
			g_string_append_len(joined, (const char *)p, (gssize)n);
			p += n;
		}
		g_ptr_array_add(txt, g_string_free(joined, FALSE));
	}
	if (txt->len == 0) {
		ret = imi_fail(error_r, IMI_NOTFOUND, "%s has no TXT record", name);
		goto out;
	}
	g_ptr_array_add(txt, NULL);
	*txt_r = (char **)g_ptr_array_free(txt, FALSE);
	txt = NULL;
out:
	if (txt != NULL)
		g_ptr_array_free(txt, TRUE);
	g_free(reply);
	return ret;
}

/* ---- libopendkim query service ------------------------------------------ */

/* The query is answered at once; the handle carries the outcome to
 * waitreply. */
struct dns_dkim_query {
	size_t len;
	int error;
};

static int dns_dkim_start(void *service, int type, unsigned char *query,
			  unsigned char *buf, size_t buflen, void **handle_r)
{
	struct dns_dkim_query *q;
	size_t len = 0;
	int rcode = 0;
	char *error = NULL;

	if (dns_query(service, (const char *)query, type, buf, buflen, &len,
		      &rcode, &error) != IMI_OK) {
		/* Trouble is DKIM_DNS_ERROR: libopendkim turns it into a key
		 * failure (temperror), not "no key" (which would be permanent). */
		g_free(error);
		return DKIM_DNS_ERROR;
	}
	q = g_new0(struct dns_dkim_query, 1);
	q->len = len;
	*handle_r = q;
	return DKIM_DNS_SUCCESS;
}

static int dns_dkim_waitreply(void *service, void *handle, struct timeval *timeout,
			      size_t *bytes, int *error, int *dnssec)
{
	struct dns_dkim_query *q = handle;

	if (bytes != NULL)
		*bytes = q->len;
	if (error != NULL)
		*error = q->error;
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	return DKIM_DNS_SUCCESS;
}

static int dns_dkim_cancel(void *service, void *handle)
{
	g_free(handle);
	return 0;
}

/* libopendkim calls init only when it has no service handle; ours is set
 * before any query, so reaching this means it was closed: refuse. */
static int dns_dkim_init(void **service)
{
	return -1;
}

/* The resolver belongs to its creator, not to the library. */
static void dns_dkim_close(void *service)
{
}

void dns_attach_dkim(struct dns_resolver *resolver, DKIM_LIB *lib)
{
	dkim_dns_set_query_service(lib, resolver);
	dkim_dns_set_query_start(lib, dns_dkim_start);
	dkim_dns_set_query_waitreply(lib, dns_dkim_waitreply);
	dkim_dns_set_query_cancel(lib, dns_dkim_cancel);
	dkim_dns_set_init(lib, dns_dkim_init);
	dkim_dns_set_close(lib, dns_dkim_close);
}

/* ---- libspf2 DNS layer -------------------------------------------------- */

/* Set when a lookup of this thread met DNS trouble: libspf2 1.2.10 turns a
 * TRY_AGAIN on the first record into the result "invalid" rather than
 * temperror, so spf.c asks afterwards. */
static __thread int dns_spf_trouble;

int dns_spf_trouble_take(void)
{
	int trouble = dns_spf_trouble;

	dns_spf_trouble = 0;
	return trouble;
}

static int dns_spf_add_rr(SPF_dns_rr_t *spfrr, int index, const ns_msg *msg,
			  const ns_rr *rr)
{
	const unsigned char *rdata = ns_rr_rdata(*rr);
	size_t rdlen = ns_rr_rdlen(*rr);
	char name[NS_MAXDNAME];

	switch (ns_rr_type(*rr)) {
	case ns_t_a:
		if (rdlen != sizeof(struct in_addr) ||
		    SPF_dns_rr_buf_realloc(spfrr, index, sizeof(struct in_addr)) != SPF_E_SUCCESS)
			return 0;
		memcpy(&spfrr->rr[index]->a, rdata, sizeof(struct in_addr));
		return 1;
	case ns_t_aaaa:
		if (rdlen != sizeof(struct in6_addr) ||
		    SPF_dns_rr_buf_realloc(spfrr, index, sizeof(struct in6_addr)) != SPF_E_SUCCESS)
			return 0;
		memcpy(&spfrr->rr[index]->aaaa, rdata, sizeof(struct in6_addr));
		return 1;
	case ns_t_mx:
	case ns_t_ptr:
		if (ns_rr_type(*rr) == ns_t_mx) {
			if (rdlen < NS_INT16SZ)
				return 0;
			rdata += NS_INT16SZ;
		}
		if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), rdata,
				       name, sizeof(name)) < 0 ||
		    SPF_dns_rr_buf_realloc(spfrr, index, strlen(name) + 1) != SPF_E_SUCCESS)
			return 0;
		memcpy(spfrr->rr[index]->txt, name, strlen(name) + 1);
		return 1;
	case ns_t_txt: {
		/* Character-strings joined without separator (RFC 7208 §3.3). */
		const unsigned char *p = rdata, *end = rdata + rdlen;
		char *dst;
		if (SPF_dns_rr_buf_realloc(spfrr, index, rdlen + 1) != SPF_E_SUCCESS)
			return 0;
		dst = spfrr->rr[index]->txt;
		while (p < end) {
			size_t n = *p++;
			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
			memcpy(dst, p, n);
			dst += n;
			p += n;
		}
		*dst = '\0';
		return 1;
	}
	default:
		return 0;
	}
}

static SPF_dns_rr_t *dns_spf_lookup(SPF_dns_server_t *layer, const char *domain,
				    ns_type rr_type, int should_cache)
{
	unsigned char *reply = g_malloc(DNS_MAX_REPLY);
	SPF_dns_rr_t *spfrr;
	size_t len;
	int rcode, count = 0;
	char *error = NULL;
	ns_msg msg;
	ns_rr rr;

	if (dns_query(layer->hook, domain, rr_type, reply, DNS_MAX_REPLY, &len,
		      &rcode, &error) != IMI_OK) {
		g_free(error);
		g_free(reply);
		dns_spf_trouble = 1;
		return SPF_dns_rr_new_init(layer, domain, rr_type, 0, TRY_AGAIN);
	}
	if (rcode == ns_r_nxdomain) {
		g_free(reply);
		return SPF_dns_rr_new_init(layer, domain, rr_type, 0, HOST_NOT_FOUND);
	}
	if (ns_initparse(reply, (int)len, &msg) < 0) {
		g_free(reply);
		dns_spf_trouble = 1;
		return SPF_dns_rr_new_init(layer, domain, rr_type, 0, TRY_AGAIN);
	}
	spfrr = SPF_dns_rr_new_init(layer, domain, rr_type, 0, NETDB_SUCCESS);
	if (spfrr == NULL) {
		g_free(reply);
		return NULL;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && i < DNS_MAX_ANSWERS; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			spfrr->herrno = TRY_AGAIN;
			dns_spf_trouble = 1;
			count = 0;
			break;
		}
		/* A CNAME chain comes with the records it points to. */
		if (ns_rr_type(rr) != rr_type || ns_rr_class(rr) != ns_c_in)
			continue;
		if (dns_spf_add_rr(spfrr, count, &msg, &rr))
			count++;
		if (spfrr->ttl == 0 || ns_rr_ttl(rr) < spfrr->ttl)
			spfrr->ttl = ns_rr_ttl(rr);
	}
	spfrr->num_rr = count;
	if (count == 0 && spfrr->herrno == NETDB_SUCCESS)
		spfrr->herrno = NO_DATA;
	g_free(reply);
	return spfrr;
}

void dns_spf_layer_free(SPF_dns_server_t **layer)
{
	g_free(*layer);
	*layer = NULL;
}

SPF_dns_server_t *dns_spf_layer(struct dns_resolver *resolver)
{
	SPF_dns_server_t *layer = g_new0(SPF_dns_server_t, 1);

	/* No destroy function: the layer is ours (dns_spf_layer_free). */
	layer->lookup = dns_spf_lookup;
	layer->name = "imi";
	layer->hook = resolver;
	return layer;
}

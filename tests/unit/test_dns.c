/*
 * test_dns.c: the resolver against a small DNS server of the test's own
 * (a thread on 127.0.0.1, UDP and TCP on the same port), which answers
 * each name in a way that exercises one path: truncation and TCP retry,
 * SERVFAIL, NXDOMAIN, no data, a reply with the wrong id, silence.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parser/dns.h"

#define BIG_TXT_BYTES 1000

struct fake {
	int udp, tcp, stop[2];
	int port;
	int tcp_queries;
	pthread_t thread;
};

static struct fake fake;

/* First label of the question, lower case, into out. */
static void question_label(const unsigned char *q, size_t len, char *out, size_t size)
{
	size_t n = len > 12 ? q[12] : 0;
	if (n >= size || 13 + n > len)
		n = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)g_ascii_tolower(q[13 + i]);
	out[n] = '\0';
}

/* The reply for a query; returns its length, 0 for no reply. */
static size_t answer(const unsigned char *q, size_t qlen, int over_tcp, unsigned char *r)
{
	char label[64];
	size_t len = qlen;
	int rcode = 0;

	question_label(q, qlen, label, sizeof(label));
	if (strcmp(label, "silent") == 0)
		return 0;
	memcpy(r, q, qlen);
	r[2] = 0x81;  /* QR, RD */
	r[3] = 0x80;  /* RA */
	if (strcmp(label, "servfail") == 0)
		rcode = 2;
	else if (strcmp(label, "nx") == 0)
		rcode = 3;
	else if (strcmp(label, "wrongid") == 0)
		r[1] ^= 1;
	else if (strcmp(label, "big") == 0 && !over_tcp)
		r[2] |= 0x02; /* TC: ask again over TCP */
	else if (strcmp(label, "small") == 0 || strcmp(label, "big") == 0) {
		size_t text = strcmp(label, "big") == 0 ? BIG_TXT_BYTES : 10;
		size_t rdlen = 0, rdstart;
		r[7] = 1; /* ANCOUNT */
		r[len++] = 0xc0; r[len++] = 12;            /* name: the question's */
		r[len++] = 0; r[len++] = 16;               /* TXT */
		r[len++] = 0; r[len++] = 1;                /* IN */
		r[len++] = 0; r[len++] = 0; r[len++] = 0; r[len++] = 60;
		rdstart = len + 2;
		for (size_t done = 0; done < text;) {
			size_t n = MIN(text - done, 255);
			r[rdstart + rdlen++] = (unsigned char)n;
			for (size_t i = 0; i < n; i++, done++)
				r[rdstart + rdlen++] = (unsigned char)('a' + done % 26);
		}
		r[len++] = (unsigned char)(rdlen >> 8);
		r[len++] = (unsigned char)rdlen;
		len += rdlen;
	}
	r[3] |= (unsigned char)rcode;
	return len;
}

static void *fake_run(void *arg)
{
	unsigned char q[512], r[4096];
	struct pollfd fds[3] = {{fake.udp, POLLIN, 0}, {fake.tcp, POLLIN, 0}, {fake.stop[0], POLLIN, 0}};

	for (;;) {
		if (poll(fds, 3, -1) < 0)
			continue;
		if (fds[2].revents != 0)
			return NULL;
		if (fds[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t from_len = sizeof(from);
			ssize_t n = recvfrom(fake.udp, q, sizeof(q), 0, (struct sockaddr *)&from, &from_len);
			size_t rlen = n > 12 ? answer(q, (size_t)n, 0, r) : 0;
			if (rlen > 0)
				sendto(fake.udp, r, rlen, 0, (struct sockaddr *)&from, from_len);
		}
		if (fds[1].revents & POLLIN) {
			int c = accept(fake.tcp, NULL, NULL);
			unsigned char hdr[2];
			if (c < 0)
				continue;
			if (recv(c, hdr, 2, MSG_WAITALL) == 2) {
				size_t qlen = (size_t)hdr[0] << 8 | hdr[1];
				if (qlen <= sizeof(q) && recv(c, q, qlen, MSG_WAITALL) == (ssize_t)qlen) {
					size_t rlen = answer(q, qlen, 1, r + 2);
					g_atomic_int_inc(&fake.tcp_queries);
					r[0] = (unsigned char)(rlen >> 8);
					r[1] = (unsigned char)rlen;
					if (send(c, r, rlen + 2, MSG_NOSIGNAL) < 0)
						fprintf(stderr, "fake DNS: send failed\n");
				}
			}
			close(c);
		}
	}
}

static int fake_start(void **state)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	int one = 1;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fake.tcp = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fake.tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fake.tcp, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fake.tcp, 8) < 0 ||
	    getsockname(fake.tcp, (struct sockaddr *)&addr, &len) < 0)
		fail_msg("fake DNS: cannot listen on TCP");
	fake.port = ntohs(addr.sin_port);
	fake.udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(fake.udp, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail_msg("fake DNS: UDP port %d is taken", fake.port);
	if (pipe(fake.stop) < 0)
		fail_msg("pipe");
	pthread_create(&fake.thread, NULL, fake_run, NULL);
	return 0;
}

static int fake_stop(void **state)
{
	if (write(fake.stop[1], "x", 1) != 1)
		fprintf(stderr, "cannot stop the fake DNS server\n");
	pthread_join(fake.thread, NULL);
	close(fake.udp);
	close(fake.tcp);
	close(fake.stop[0]);
	close(fake.stop[1]);
	return 0;
}

static struct dns_resolver *resolver(int timeout_ms)
{
	char server[32], *error = NULL;
	struct dns_resolver *r = NULL;

	g_snprintf(server, sizeof(server), "127.0.0.1:%d", fake.port);
	if (dns_resolver_new(server, timeout_ms, &r, &error) != IMI_OK)
		fail_msg("resolver: %s", error);
	check_str("describe", dns_resolver_describe(r), server);
	return r;
}

static void test_txt(void **state)
{
	static const struct {
		const char *name;
		int want;
		size_t want_len;  /* of the first TXT record */
		int want_tcp;     /* TCP queries this lookup makes */
	} cases[] = {
		{"small.test", IMI_OK, 10, 0},
		{"big.test", IMI_OK, BIG_TXT_BYTES, 1},
		{"BIG.test.", IMI_OK, BIG_TXT_BYTES, 1},
		{"nx.test", IMI_NOTFOUND, 0, 0},
		{"empty.test", IMI_NOTFOUND, 0, 0},
		{"servfail.test", IMI_TEMPFAIL, 0, 0},
		{"wrongid.test", IMI_TEMPFAIL, 0, 0},
		{"silent.test", IMI_TEMPFAIL, 0, 0},
		{"bad..name", IMI_INVALID, 0, 0},
	};
	struct dns_resolver *r = resolver(300);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char **txt = NULL, *error = NULL, *field;
		int tcp_before = g_atomic_int_get(&fake.tcp_queries);
		int ret = dns_txt(r, cases[i].name, &txt, &error);

		field = g_strdup_printf("%s: status (%s)", cases[i].name, error ? error : "");
		check_str(field, imi_status_name(ret), imi_status_name(cases[i].want));
		g_free(field);
		field = g_strdup_printf("%s: TCP queries", cases[i].name);
		check_int(field, g_atomic_int_get(&fake.tcp_queries) - tcp_before, cases[i].want_tcp);
		g_free(field);
		if (ret == IMI_OK) {
			field = g_strdup_printf("%s: TXT length", cases[i].name);
			check_int(field, strlen(txt[0]), cases[i].want_len);
			check_int("TXT first letters", strncmp(txt[0], "abcdefghij", 10), 0);
			g_free(field);
		}
		if (ret == IMI_TEMPFAIL && strstr(error, "try again later") == NULL)
			fail_msg("%s: error text \"%s\" does not say to try again", cases[i].name, error);
		g_strfreev(txt);
		g_free(error);
	}
	dns_resolver_free(&r);
}

/* A port where nobody listens: an immediate temporary failure. */
static void test_nobody_listens(void **state)
{
	struct dns_resolver *r = NULL;
	char **txt = NULL, *error = NULL;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	char server[32];

	/* Take a free port, then let it go. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&addr, sizeof(addr));
	getsockname(s, (struct sockaddr *)&addr, &len);
	close(s);
	g_snprintf(server, sizeof(server), "127.0.0.1:%d", ntohs(addr.sin_port));
	check_int("resolver", dns_resolver_new(server, 2000, &r, &error), IMI_OK);
	check_str("status", imi_status_name(dns_txt(r, "small.test", &txt, &error)),
		  imi_status_name(IMI_TEMPFAIL));
	g_free(error);
	dns_resolver_free(&r);
}

static void test_server_setting(void **state)
{
	static const struct {
		const char *text;
		int want;
		const char *want_describe;
	} cases[] = {
		{"127.0.0.1", IMI_OK, "127.0.0.1:53"},
		{"127.0.0.1:5353", IMI_OK, "127.0.0.1:5353"},
		{"::1", IMI_OK, "[::1]:53"},
		{"[::1]:5353", IMI_OK, "[::1]:5353"},
		{"[2001:db8::1]", IMI_OK, "[2001:db8::1]:53"},
		{"localhost", IMI_INVALID, NULL},
		{"127.0.0.1:0", IMI_INVALID, NULL},
		{"127.0.0.1:65536", IMI_INVALID, NULL},
		{"127.0.0.1:53x", IMI_INVALID, NULL},
		{"[::1", IMI_INVALID, NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dns_resolver *r = NULL;
		char *error = NULL;
		int ret = dns_resolver_new(cases[i].text, 0, &r, &error);
		check_str(cases[i].text, imi_status_name(ret), imi_status_name(cases[i].want));
		if (ret == IMI_OK)
			check_str(cases[i].text, dns_resolver_describe(r), cases[i].want_describe);
		dns_resolver_free(&r);
		g_free(error);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_nobody_listens),
		cmocka_unit_test(test_server_setting),
	};
	return cmocka_run_group_tests(tests, fake_start, fake_stop);
}

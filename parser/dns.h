/*
 * dns: the resolver behind DKIM and SPF, aimed at one configurable server.
 *
 * What it does: sends DNS queries (class IN, any type) to the server named by
 * [inbound] dns_server ("ip", "ip:port", "[ipv6]:port"; empty: the
 * nameserver lines of /etc/resolv.conf, tried in order) over UDP, and again
 * over TCP when the UDP answer comes back truncated.  It plugs into
 * libopendkim through its query-service hooks (dns_attach_dkim) and into
 * libspf2 as a DNS layer of its own (dns_spf_layer), so that both libraries
 * ask the same server, on any port, with the same deadline.
 *
 * Why its own socket and not res_nsend: glibc's resolver takes its servers
 * from /etc/resolv.conf and port 53 only (aiming it elsewhere means writing
 * into struct __res_state, including private fields for IPv6), retries with
 * its own timeouts, and folds "server did not answer" and "name does not
 * exist" into one h_errno for its callers.  Here each lookup has one
 * deadline, and the three outcomes that matter stay apart: an answer
 * (NOERROR), a definite "no such name" (NXDOMAIN), and trouble (timeout,
 * SERVFAIL, REFUSED, a malformed or mismatched reply) which is IMI_TEMPFAIL.
 *
 * How it fails: trouble is IMI_TEMPFAIL, never a negative answer, so that a
 * dead DNS server turns into a temporary error for DKIM and SPF and never
 * into a "fail" verdict.  A bad dns_server setting is IMI_INVALID.
 *
 * What it trusts: nothing in a reply beyond what its header says: the reply
 * must carry our query id, our question and the QR bit, or it is ignored
 * (UDP) or refused (TCP).  No DNSSEC validation.
 *
 * Threads: a resolver is immutable after dns_resolver_new; queries from
 * several threads at once are safe (each uses its own socket).
 */
#ifndef IMI_DNS_H
#define IMI_DNS_H

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <stddef.h>

#include <opendkim/dkim.h>
#include <spf2/spf.h>

#include "util/util.h"

/* Bounds. */
#define DNS_MAX_SERVERS 3          /* nameserver lines used from resolv.conf */
#define DNS_DEFAULT_TIMEOUT_MS 5000 /* per lookup, all servers and TCP included */
#define DNS_MAX_REPLY 65535        /* largest reply accepted (TCP) */
#define DNS_MAX_TXT 16             /* TXT records returned by dns_txt */

struct dns_resolver;

/* server: "ip[:port]", "[ipv6]:port", or NULL/"" for /etc/resolv.conf.
 * timeout_ms <= 0 means DNS_DEFAULT_TIMEOUT_MS. */
int dns_resolver_new(const char *server, int timeout_ms,
		     struct dns_resolver **resolver_r, char **error_r);
void dns_resolver_free(struct dns_resolver **resolver);
/* "127.0.0.1:5353" etc., for messages. */
const char *dns_resolver_describe(const struct dns_resolver *resolver);

/* One query.  On IMI_OK the whole reply (header included) is in
 * reply[0..*len_r) and *rcode_r is ns_r_noerror or ns_r_nxdomain.  Any other
 * rcode, a timeout or a broken reply is IMI_TEMPFAIL.  A reply larger than
 * size is IMI_TOOBIG. */
int dns_query(struct dns_resolver *resolver, const char *name, int type,
	      unsigned char *reply, size_t size, size_t *len_r, int *rcode_r,
	      char **error_r);

/* TXT records of name, each with its character-strings joined, as a
 * NULL-terminated vector (g_strfreev).  IMI_NOTFOUND: no such name or no TXT
 * record. */
int dns_txt(struct dns_resolver *resolver, const char *name, char ***txt_r,
	    char **error_r);

/* Makes libopendkim ask this resolver.  The resolver must outlive lib;
 * dkim_close(lib) leaves it alone. */
void dns_attach_dkim(struct dns_resolver *resolver, DKIM_LIB *lib);

/* A libspf2 DNS layer asking this resolver (for SPF_server_new_dns).
 * SPF_server_free leaves a layer given to SPF_server_new_dns alone: free it
 * with dns_spf_layer_free afterwards.  The resolver must outlive it. */
SPF_dns_server_t *dns_spf_layer(struct dns_resolver *resolver);
void dns_spf_layer_free(SPF_dns_server_t **layer);
/* Whether a lookup of the SPF layer in this thread met DNS trouble since
 * the last call (and clears the flag). */
int dns_spf_trouble_take(void);

#endif

/*
 * dkim_key: the service's DKIM signing key and the DNS record that
 * publishes it.
 *
 * What it does: creates an RSA-2048 private key (OpenSSL's libcrypto, which
 * libopendkim loads anyway; PKCS#1 PEM, mode 0600) and derives from a key
 * file (PKCS#1 or PKCS#8 PEM) the TXT record to publish at
 * SELECTOR._domainkey.DOMAIN ("v=DKIM1; k=rsa; p=...").
 * RSA rather than Ed25519: RFC 8463 receivers are still few, and an
 * unverifiable signature is worth nothing to the authorities' mail hosts.
 *
 * How it fails: refuses to overwrite an existing key (IMI_EXISTS); a key
 * that cannot be read or parsed is IMI_INVALID.  It never prints.
 */
#ifndef IMI_DKIM_KEY_H
#define IMI_DKIM_KEY_H

#include "util/util.h"

#define DKIM_KEY_BITS 2048

int dkim_key_create(const char *path, char **error_r);
/* The TXT record's value, "v=DKIM1; k=rsa; p=BASE64" (g_free). */
int dkim_key_dns_record(const char *path, char **record_r, char **error_r);

#endif

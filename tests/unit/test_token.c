/*
 * test_token.c: reply tokens — making, finding in an address, verifying,
 * and the key file.
 */
#include "testutil.h"

#include <sys/stat.h>

#include "parser/token.h"

#define NOW 1795600000        /* 2026-11-24 */
#define TODAY (NOW / 86400)

static unsigned char key[TOKEN_KEY_BYTES];
static unsigned char other_key[TOKEN_KEY_BYTES];

static int setup(void **state)
{
	for (int i = 0; i < TOKEN_KEY_BYTES; i++) {
		key[i] = (unsigned char)(i * 7 + 1);
		other_key[i] = (unsigned char)(i * 7 + 2);
	}
	return 0;
}

static char *make(const char *ref, const char *authority, const char *action, int64_t expiry)
{
	char *token = NULL, *error = NULL;

	if (token_make(key, ref, authority, action, expiry, &token, &error) != IMI_OK)
		fail_msg("token_make(%s, %s, %s): %s", ref, authority, action, error);
	return token;
}

static void test_shape(void **state)
{
	char *token = make("2026-42", "fr-ordre-medecins", "ans", TODAY + 120);
	char **parts = g_strsplit(token, ".", -1);
	char *want_expiry = g_strdup_printf("%lld", (long long)(TODAY + 120));

	check_int("parts", g_strv_length(parts), 4);
	check_str("ref", parts[0], "2026-42");
	check_str("action", parts[1], "ans");
	check_str("expiry", parts[2], want_expiry);
	check_int("mac length", strlen(parts[3]), TOKEN_MAC_CHARS);
	for (const char *p = token; *p != '\0'; p++)
		if (g_ascii_isupper(*p))
			fail_msg("token \"%s\" has an upper-case letter", token);
	g_free(want_expiry);
	g_strfreev(parts);
	g_free(token);
}

/* token_verify over a table of tokens derived from one good token. */
struct verify_case {
	const char *name;
	const char *(*mutate)(const char *good, char *buf, size_t size);
	const char *authority;
	int64_t now;
	int want_status;
	enum token_state want_state;
};

static const char *same(const char *good, char *buf, size_t size)
{
	g_strlcpy(buf, good, size);
	return buf;
}

static const char *upper(const char *good, char *buf, size_t size)
{
	char *u = g_ascii_strup(good, -1);
	g_strlcpy(buf, u, size);
	g_free(u);
	return buf;
}

static const char *other_action(const char *good, char *buf, size_t size)
{
	char **p = g_strsplit(good, ".", -1);
	g_snprintf(buf, size, "%s.acc.%s.%s", p[0], p[2], p[3]);
	g_strfreev(p);
	return buf;
}

static const char *other_case(const char *good, char *buf, size_t size)
{
	char **p = g_strsplit(good, ".", -1);
	g_snprintf(buf, size, "2026-43.%s.%s.%s", p[1], p[2], p[3]);
	g_strfreev(p);
	return buf;
}

static const char *later_expiry(const char *good, char *buf, size_t size)
{
	char **p = g_strsplit(good, ".", -1);
	g_snprintf(buf, size, "%s.%s.%lld.%s", p[0], p[1], (long long)g_ascii_strtoll(p[2], NULL, 10) + 365, p[3]);
	g_strfreev(p);
	return buf;
}

static const char *flipped_mac(const char *good, char *buf, size_t size)
{
	size_t len;
	g_strlcpy(buf, good, size);
	len = strlen(buf);
	buf[len - 1] = buf[len - 1] == 'a' ? 'b' : 'a';
	return buf;
}

static const char *short_mac(const char *good, char *buf, size_t size)
{
	g_strlcpy(buf, good, size);
	buf[strlen(buf) - 1] = '\0';
	return buf;
}

static const char *bad_char(const char *good, char *buf, size_t size)
{
	g_strlcpy(buf, good, size);
	buf[strlen(buf) - 1] = '1'; /* not in the base32 alphabet */
	return buf;
}

static const char *missing_part(const char *good, char *buf, size_t size)
{
	char **p = g_strsplit(good, ".", -1);
	g_snprintf(buf, size, "%s.%s.%s", p[0], p[1], p[3]);
	g_strfreev(p);
	return buf;
}

static const char *empty(const char *good, char *buf, size_t size)
{
	buf[0] = '\0';
	return buf;
}

static const struct verify_case verify_cases[] = {
	{"good", same, "fr-ordre-medecins", NOW, IMI_OK, TOKEN_VALID},
	{"upper case", upper, "fr-ordre-medecins", NOW, IMI_OK, TOKEN_VALID},
	{"last valid day", same, "fr-ordre-medecins", NOW + 10 * 86400, IMI_OK, TOKEN_VALID},
	{"expired", same, "fr-ordre-medecins", NOW + 11 * 86400, IMI_DENIED, TOKEN_EXPIRED},
	{"other authority", same, "de-aerztekammer", NOW, IMI_DENIED, TOKEN_FORGED},
	{"other action", other_action, "fr-ordre-medecins", NOW, IMI_DENIED, TOKEN_FORGED},
	{"other case", other_case, "fr-ordre-medecins", NOW, IMI_DENIED, TOKEN_FORGED},
	{"expiry moved", later_expiry, "fr-ordre-medecins", NOW, IMI_DENIED, TOKEN_FORGED},
	{"mac altered", flipped_mac, "fr-ordre-medecins", NOW, IMI_DENIED, TOKEN_FORGED},
	{"mac too short", short_mac, "fr-ordre-medecins", NOW, IMI_INVALID, TOKEN_MALFORMED},
	{"mac bad character", bad_char, "fr-ordre-medecins", NOW, IMI_INVALID, TOKEN_MALFORMED},
	{"part missing", missing_part, "fr-ordre-medecins", NOW, IMI_INVALID, TOKEN_MALFORMED},
	{"empty", empty, "fr-ordre-medecins", NOW, IMI_INVALID, TOKEN_MALFORMED},
};

static void test_verify(void **state)
{
	/* Expires at the end of day TODAY + 10. */
	char *good = make("2026-42", "fr-ordre-medecins", "ans", TODAY + 10);

	for (size_t i = 0; i < G_N_ELEMENTS(verify_cases); i++) {
		const struct verify_case *c = &verify_cases[i];
		char buf[128], *error = NULL, *field;
		struct token t;
		enum token_state st;
		int ret = token_verify(key, c->mutate(good, buf, sizeof(buf)), c->authority,
				       c->now, &t, &st, &error);

		field = g_strdup_printf("%s: status (%s)", c->name, error != NULL ? error : "");
		check_str(field, imi_status_name(ret), imi_status_name(c->want_status));
		g_free(field);
		field = g_strdup_printf("%s: state", c->name);
		check_int(field, st, c->want_state);
		g_free(field);
		if (c->want_state == TOKEN_VALID || c->want_state == TOKEN_EXPIRED) {
			check_str(c->name, t.ref, "2026-42");
			check_str(c->name, t.action, "ans");
			check_int(c->name, t.expiry_day, TODAY + 10);
		}
		g_free(error);
	}
	g_free(good);
}

static void test_other_key(void **state)
{
	char *good = make("7", "fr-ordre-medecins", "ans", TODAY + 10);
	struct token t;
	enum token_state st;
	char *error = NULL;

	check_int("status with another key",
		  token_verify(other_key, good, "fr-ordre-medecins", NOW, &t, &st, &error), IMI_DENIED);
	check_int("state", st, TOKEN_FORGED);
	g_free(error);
	g_free(good);
}

static void test_make_refuses(void **state)
{
	static const struct {
		const char *name, *ref, *authority, *action;
	} cases[] = {
		{"ref with dot", "2026.42", "a", "ans"},
		{"ref with plus", "2026+42", "a", "ans"},
		{"ref too long", "123456789012345678901", "a", "ans"},
		{"empty ref", "", "a", "ans"},
		{"action with digit", "1", "a", "ans1"},
		{"action too long", "1", "a", "answering"},
		{"no authority", "1", "", "ans"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *token = NULL, *error = NULL;
		check_int(cases[i].name, token_make(key, cases[i].ref, cases[i].authority,
						    cases[i].action, TODAY, &token, &error),
			  IMI_INVALID);
		if (token != NULL)
			fail_msg("%s: got a token \"%s\"", cases[i].name, token);
		g_free(error);
	}
}

/* Address round trip, delimiters, and the 64-octet limit. */
static void test_address(void **state)
{
	static const struct {
		const char *name, *local;
		char delimiter;
		const char *parse_local, *delimiters;
		int want_make, want_parse;
	} cases[] = {
		{"plus", "imi", '+', "imi", "+", IMI_OK, IMI_OK},
		{"default delimiter", "imi", '+', "imi", "", IMI_OK, IMI_OK},
		{"minus", "imi", '-', "imi", "-", IMI_OK, IMI_OK},
		{"set of delimiters", "imi", '-', "imi", "+-", IMI_OK, IMI_OK},
		{"case of local part", "IMI", '+', "imi", "+", IMI_OK, IMI_OK},
		{"wrong delimiter", "imi", '-', "imi", "+", IMI_OK, IMI_NOTFOUND},
		{"other local part", "info", '+', "imi", "+", IMI_OK, IMI_NOTFOUND},
		{"longest local part", "imi-service", '+', "imi-service", "+", IMI_OK, IMI_OK},
		{"local part too long", "imi-service-x", '+', "imi-service-x", "+", IMI_TOOBIG, IMI_OK},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *address = NULL, *token = NULL, *error = NULL, *field;
		struct token t;
		enum token_state st;
		int ret = token_address(key, cases[i].local, cases[i].delimiter, "imi.example.eu",
					"20260000000000000042", "fr-ordre-medecins", "answered",
					TODAY + 99999 - TODAY, &address, &error);

		field = g_strdup_printf("%s: token_address (%s)", cases[i].name, error ? error : "");
		check_str(field, imi_status_name(ret), imi_status_name(cases[i].want_make));
		g_free(field);
		g_free(error);
		error = NULL;
		if (ret != IMI_OK)
			continue;
		if (strchr(address, '@') - address > TOKEN_MAX_LOCAL_PART)
			fail_msg("%s: local part of %s is over 64 octets", cases[i].name, address);
		ret = token_parse_address(address, cases[i].parse_local, cases[i].delimiters,
					  &token, &error);
		field = g_strdup_printf("%s: token_parse_address(%s)", cases[i].name, address);
		check_str(field, imi_status_name(ret), imi_status_name(cases[i].want_parse));
		g_free(field);
		g_free(error);
		error = NULL;
		if (ret == IMI_OK) {
			check_int(cases[i].name,
				  token_verify(key, token, "fr-ordre-medecins", NOW, &t, &st, &error), IMI_OK);
			check_str(cases[i].name, t.ref, "20260000000000000042");
		}
		g_free(token);
		g_free(address);
	}
}

static void test_parse_address_edges(void **state)
{
	static const struct {
		const char *address;
		int want;
		const char *want_token;
	} cases[] = {
		{"<imi+1.ans.20000.aaaaaaaaaaaaaaaa@imi.example.eu>", IMI_OK, "1.ans.20000.aaaaaaaaaaaaaaaa"},
		{"IMI+1.ANS.20000.AAAAAAAAAAAAAAAA@imi.example.eu", IMI_OK, "1.ans.20000.aaaaaaaaaaaaaaaa"},
		{"imi@imi.example.eu", IMI_NOTFOUND, NULL},
		{"imi+@imi.example.eu", IMI_NOTFOUND, NULL},
		{"imix+1@imi.example.eu", IMI_NOTFOUND, NULL},
		{"no-at-sign", IMI_NOTFOUND, NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *token = NULL, *error = NULL;
		int ret = token_parse_address(cases[i].address, "imi", "+", &token, &error);
		check_str(cases[i].address, imi_status_name(ret), imi_status_name(cases[i].want));
		check_str(cases[i].address, token, cases[i].want_token);
		g_free(token);
		g_free(error);
	}
}

static void test_key_file(void **state)
{
	char *dir = testutil_tmpdir("token");
	char *path = g_strdup_printf("%s/token.key", dir);
	unsigned char loaded[TOKEN_KEY_BYTES], again[TOKEN_KEY_BYTES];
	struct stat st;
	char *error = NULL;

	check_int("create", token_key_create(path, &error), IMI_OK);
	check_int("stat", stat(path, &st), 0);
	check_int("mode", st.st_mode & 0777, 0600);
	check_int("size", st.st_size, TOKEN_KEY_BYTES);
	check_int("load", token_key_load(path, loaded, &error), IMI_OK);
	check_int("load again", token_key_load(path, again, &error), IMI_OK);
	check_int("same key", memcmp(loaded, again, sizeof(loaded)), 0);
	check_int("create over an existing key", token_key_create(path, &error), IMI_EXISTS);
	g_free(error);
	error = NULL;
	check_int("chmod", chmod(path, 0644), 0);
	check_int("load with mode 0644", token_key_load(path, loaded, &error), IMI_DENIED);
	g_free(error);
	error = NULL;
	check_int("chmod", chmod(path, 0600), 0);
	check_int("truncate", truncate(path, 16), 0);
	check_int("load a short key", token_key_load(path, loaded, &error), IMI_INVALID);
	g_free(error);
	error = NULL;
	unlink(path);
	check_int("load a missing key", token_key_load(path, loaded, &error), IMI_NOTFOUND);
	g_free(error);
	g_free(path);
	testutil_rmdir(dir);
}

static void test_day(void **state)
{
	check_int("epoch", token_day(0), 0);
	check_int("end of first day", token_day(86399), 0);
	check_int("second day", token_day(86400), 1);
	check_int("before epoch", token_day(-1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_make_refuses),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_parse_address_edges),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_day),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

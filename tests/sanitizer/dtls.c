/*
 * dtls.c: places a dynamic TLS block 16 bytes into a page, where the
 * __tls_get_addr interceptor of GCC 12's sanitizer runtime misreads it
 * (util/util.c, __asan_default_options).  Run by
 * tests/integration/sanitizer.sh with AddressSanitizer's quarantine off,
 * so that a chunk just freed is the next one malloc returns.
 *
 *   dtls MODULE [leak]
 *
 * Prints the block's offset in its page.  The block holds the only
 * pointer to a heap chunk, which LeakSanitizer must not report; with
 * "leak" one chunk is lost, which it must report.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DTLS_SIZE 40 /* as dtls_mod.c's block */
#define DTLS_TRIES 100000

int main(int argc, char **argv)
{
	void *module, **other;
	char *(*block)(void), *p = NULL, *tls;
	void *held;
	int n = 0, i;

	if (argc < 2) {
		fprintf(stderr, "usage: dtls MODULE [leak]\n");
		return 2;
	}
	module = dlopen(argv[1], RTLD_NOW);
	if (module == NULL) {
		fprintf(stderr, "dtls: %s\n", dlerror());
		return 2;
	}
	*(void **)&block = dlsym(module, "dtls_block");
	if (block == NULL) {
		fprintf(stderr, "dtls: %s\n", dlerror());
		return 2;
	}
	/* A chunk of the block's size 16 bytes into a page, freed last:
	 * glibc's malloc for the block gets it back. */
	other = calloc(DTLS_TRIES, sizeof *other);
	if (other == NULL)
		return 2;
	while (n < DTLS_TRIES) {
		p = malloc(DTLS_SIZE);
		if (p == NULL || ((uintptr_t)p & 4095) == 16)
			break;
		other[n++] = p;
	}
	free(p);
	tls = block();
	for (i = 0; i < n; i++)
		free(other[i]);
	free(other);

	held = malloc(100);
	memcpy(tls, &held, sizeof held);
	held = NULL;
	if (argc > 2 && strcmp(argv[2], "leak") == 0) {
		void *volatile lost = malloc(77);
		lost = NULL;
	}
	printf("dynamic TLS block at page offset %lu\n",
	       (unsigned long)((uintptr_t)tls & 4095));
	return 0;
}

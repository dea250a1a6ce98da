/*
 * dtls_mod.c: a module with thread-local storage, for
 * tests/integration/sanitizer.sh.  Opened with dlopen, its block is
 * allocated with malloc when a thread first touches it.  40 bytes at
 * 16-byte alignment: glibc asks malloc for exactly that.
 */
char *dtls_block(void);

static __thread char dtls_data[40] __attribute__((aligned(16)));

char *dtls_block(void)
{
	return dtls_data;
}

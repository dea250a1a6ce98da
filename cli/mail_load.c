/*
 * mail_load.c: the imi program and its mail module, imi-mail.so.
 *
 * Every shared library an executable links is loaded and its symbols bound
 * before main (Debian builds them with -z now), whatever the command does.
 * GMime (with GIO, gpgme, libassuan...), libopendkim, libspf2, libpsl and
 * libcrypto were more than half of the instructions of an imi tick with
 * nothing due, which reads two records (10.4 M; 4.75 M without them).  So the imi executable holds only what
 * opens the home and the store (util/, conf/, store/, the global options,
 * policies/due.c) and links GLib, json-glib, libsodium and Berkeley DB; the
 * commands, and everything that reads or writes mail, are in imi-mail.so,
 * which imi opens with dlopen when a command needs it: every command but
 * imi tick with nothing due (cli/tick_idle.c), --help and the network
 * commands (imi-net, cli/net_exec.c).  The module's references to the
 * store and the other core functions resolve to the executable's (it
 * exports them, see the Makefile), so there is one store, one log and one
 * configuration in the process.
 *
 * Where: next to the running imi first (/proc/self/exe: a build tree's
 * build/imi opens build/imi-mail.so, through the ./imi link too), else
 * IMI_LIBEXECDIR, where make install puts it.
 *
 * How it fails: a module that cannot be opened, or that lacks its table of
 * commands, is EX_UNAVAILABLE (69) with a text naming where it looked; an
 * MTA that runs imi deliver keeps the message and tries again.
 */
#include "cli/cli.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CLI_MAIL_MODULE "imi-mail.so"

void cli_libexec_paths(const char *name, char *paths_r[CLI_LIBEXEC_PATHS])
{
	char self[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	paths_r[0] = NULL;
	if (n > 0) {
		self[n] = '\0';
		dir = g_path_get_dirname(self);
		paths_r[0] = g_build_filename(dir, name, NULL);
		g_free(dir);
	}
	paths_r[1] = g_build_filename(IMI_LIBEXECDIR, name, NULL);
}

/* The module's table of commands, once opened: for the life of the
 * process (never closed: GLib types it registers stay registered). */
static const struct cli_command *cli_mail_table;
static void (*cli_mail_cleanup_fn)(void);

static int cli_mail_open(const char *command)
{
	char *paths[CLI_LIBEXEC_PATHS];
	GString *tried;
	void *handle = NULL;
	unsigned opened = 0;

	if (cli_mail_table != NULL)
		return 0;
	tried = g_string_new(NULL);
	cli_libexec_paths(CLI_MAIL_MODULE, paths);
	for (unsigned i = 0; i < CLI_LIBEXEC_PATHS && handle == NULL; i++) {
		if (paths[i] == NULL)
			continue;
		if ((handle = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL)) == NULL)
			g_string_append_printf(tried, "%s%s", tried->len > 0 ? "; " : "",
					       dlerror());
		else
			opened = i;
	}
	if (handle != NULL) {
		cli_mail_table = dlsym(handle, "cli_mail_commands");
		*(void **)&cli_mail_cleanup_fn = dlsym(handle, "cli_mail_cleanup");
		if (cli_mail_table == NULL || cli_mail_cleanup_fn == NULL) {
			g_string_append_printf(tried, "%s%s: not imi's mail module",
					       tried->len > 0 ? "; " : "", paths[opened]);
			cli_mail_table = NULL;
			dlclose(handle);
			handle = NULL;
		}
	}
	if (handle == NULL)
		fprintf(stderr, "imi: %s needs the module %s, which cannot be loaded: %s; "
				"make install puts it in %s\n",
			command, CLI_MAIL_MODULE, tried->str, IMI_LIBEXECDIR);
	g_string_free(tried, TRUE);
	for (unsigned i = 0; i < CLI_LIBEXEC_PATHS; i++)
		g_free(paths[i]);
	return handle != NULL ? 0 : EX_UNAVAILABLE;
}

int cli_mail_command(struct cli *cli, int argc, char **argv)
{
	int ret;

	if ((ret = cli_mail_open(argv[0])) != 0)
		return ret;
	for (const struct cli_command *c = cli_mail_table; c->name != NULL; c++) {
		if (strcmp(c->name, argv[0]) == 0) {
			ret = c->run(cli, argc, argv);
			cli_mail_cleanup_fn();
			return ret;
		}
	}
	fprintf(stderr, "imi: the module %s has no command '%s': not the module of this imi\n",
		CLI_MAIL_MODULE, argv[0]);
	return EX_UNAVAILABLE;
}

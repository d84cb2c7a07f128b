/*
 * tp_run — the run-dir rules shared by trouped and the troupe CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_run.h"

static int
fits(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
tp_run_default_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return fits(snprintf(buf, len, "/run/troupe"), len);
	if (xdg != NULL && *xdg != '\0')
		return fits(snprintf(buf, len, "%s/troupe", xdg), len);
	return fits(snprintf(buf, len, "/tmp/troupe-%ld", (long)geteuid()),
	    len);
}

/* $XDG_RUNTIME_DIR counts only when it is ours: `su` or `sudo -E` may
 * hand root another user's, whose files root must not litter. */
static const char *
own_runtime_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (xdg == NULL || xdg[0] != '/' || stat(xdg, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return NULL;
	return xdg;
}

int
tp_run_node_base(char *buf, size_t len)
{
	const char *xdg = own_runtime_dir();

	if (xdg != NULL)
		return fits(snprintf(buf, len, "%s/troupe", xdg), len);
	if (geteuid() == 0)
		return fits(snprintf(buf, len, "/run/troupe-local"), len);
	return fits(snprintf(buf, len, "/tmp/troupe-%ld", (long)geteuid()),
	    len);
}

int
tp_run_node_dir(const char *name, char *buf, size_t len)
{
	char base[4096];

	if (tp_run_node_base(base, sizeof(base)) != 0)
		return -1;
	return fits(snprintf(buf, len, "%s/%s", base, name), len);
}

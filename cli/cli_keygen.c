#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include <jansson.h>

#include "cli_json.h"
#include "cli_keygen.h"
#include "tp_key.h"
#include "tp_sec.h"

static int
print_path(const struct cli_opts *o, const char *path)
{
	char *s;
	json_t *j;

	if (!o->o_json) {
		printf("%s\n", path);
		return 0;
	}
	if ((j = json_pack("{s:s}", "path", path)) == NULL ||
	    (s = cli_json_dump(j)) == NULL) {
		json_decref(j);
		cli_warn("out of memory");
		return 1;
	}
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}

int
cli_cmd_keygen(const struct cli_opts *o, char **args)
{
	char path[PATH_MAX], abs[PATH_MAX];
	struct tp_err err;
	int rv;

	if (args[0] != NULL)
		snprintf(path, sizeof(path), "%s", args[0]);
	else if (tp_sec_key_default_path(path, sizeof(path)) != 0) {
		cli_warn("keygen: no default key path (HOME unset?); name "
		    "the FILE");
		return EX_USAGE;
	}
	/* The key itself is never kept: trouped reads it from the file. */
	if ((rv = tp_sec_key_create(path, o->o_force, NULL, &err)) != 0) {
		if (rv == TP_EINVAL)	/* the file exists */
			cli_warn("%s exists; use --force to replace it", path);
		else
			cli_warn("keygen: %s", err.e_msg);
		return 1;
	}
	return print_path(o, realpath(path, abs) != NULL ? abs : path);
}

/*
 * cli_node — the broker a command talks to: --broker, $TROUPE_RUN_DIR,
 * --node / $TROUPE_NODE, else the one broker that runs here.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli_node.h"
#include "tp_nng.h"
#include "tp_run.h"

static int
fits(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A control socket that takes an nng connection has a broker behind
 * it; a socket file left by a killed one refuses.  Not a bare
 * connect(): one dropped during the SP handshake stops nng 1.5.2's ipc
 * listener (nng issue 1518) and the next client's request is lost. */
static bool
answers(const char *path)
{
	char url[4200];
	nng_socket s;
	int rv;

	if (fits(snprintf(url, sizeof(url), "ipc://%s", path),
	    sizeof(url)) != 0 || tp_sock_open(&s, TP_REQ, NULL, NULL) != 0)
		return false;
	rv = tp_dial(s, url, true, NULL);
	nng_close(s);
	return rv == 0;
}

static bool
name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	    "wxyz0123456789_.-");

	return n >= 1 && n < CLI_NODE_NAME_MAX && s[n] == '\0' && s[0] != '.' &&
	    strcmp(s, "mbx") != 0;	/* the default run dir's mailboxes */
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
cli_node_running(char names[][CLI_NODE_NAME_MAX], int count)
{
	char base[4096], sock[4200];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	if (tp_run_node_base(base, sizeof(base)) != 0 ||
	    (dir = opendir(base)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL && n < count) {
		if (!name_ok(de->d_name) || fits(snprintf(sock, sizeof(sock),
		    "%s/%s/ctl.sock", base, de->d_name), sizeof(sock)) != 0 ||
		    !answers(sock))
			continue;
		memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	qsort(names, (size_t)n, CLI_NODE_NAME_MAX, by_name);
	return n;
}

static int
url_of_dir(const char *dir, char *buf, size_t len)
{
	if (fits(snprintf(buf, len, "ipc://%s/ctl.sock", dir), len) != 0) {
		cli_warn("the broker's URL is too long");
		return EX_USAGE;
	}
	return 0;
}

static int
url_of_node(const char *name, char *buf, size_t len)
{
	char dir[4096];

	if (tp_run_node_dir(name, dir, sizeof(dir)) != 0) {
		cli_warn("the run dir of node %s is too long", name);
		return EX_USAGE;
	}
	return url_of_dir(dir, buf, len);
}

/* The node NAME's run dir holds a control socket (running or stale: the
 * dial tells which). */
static bool
is_local(const char *name)
{
	char dir[4096], sock[4200];
	struct stat st;

	return name_ok(name) && tp_run_node_dir(name, dir, sizeof(dir)) == 0 &&
	    fits(snprintf(sock, sizeof(sock), "%s/ctl.sock", dir),
	    sizeof(sock)) == 0 && stat(sock, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
say_several(char names[][CLI_NODE_NAME_MAX], int n, const char *dflt)
{
	char list[CLI_NODE_MAX_LISTED * (CLI_NODE_NAME_MAX + 2)] = "";
	size_t used = 0;

	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s", i ? ", " : "", names[i]);
	cli_warn("%d brokers run here (%s%s%s); choose one with --node NAME "
	    "or TROUPE_NODE=NAME", n + (dflt != NULL), list,
	    dflt != NULL && n > 0 ? ", and " : "", dflt != NULL ?
	    "the one in the default run dir" : "");
	return EX_USAGE;
}

/* Step 5: the one broker running here, if there is exactly one. */
static int
url_of_running(const char *node, char *buf, size_t len)
{
	char names[CLI_NODE_MAX_LISTED][CLI_NODE_NAME_MAX];
	char dflt[4096], sock[4200];
	bool dflt_runs;
	int n;

	if (tp_run_default_dir(dflt, sizeof(dflt)) != 0) {
		cli_warn("the default run dir is too long");
		return EX_USAGE;
	}
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dflt);
	dflt_runs = answers(sock);
	if ((n = cli_node_running(names, CLI_NODE_MAX_LISTED)) < 0)
		n = 0;
	if (n + dflt_runs > 1)
		return say_several(names, n, dflt_runs ? dflt : NULL);
	if (n == 1)
		return url_of_node(names[0], buf, len);
	if (!dflt_runs && node != NULL)	/* its dial names what is missing */
		return url_of_node(node, buf, len);
	return url_of_dir(dflt, buf, len);
}

int
cli_broker_url(const struct cli_opts *o, char *buf, size_t len)
{
	const char *v;

	if (o->o_broker != NULL) {
		if (fits(snprintf(buf, len, "%s", o->o_broker), len) != 0) {
			cli_warn("broker URL is too long");
			return EX_USAGE;
		}
		return 0;
	}
	if ((v = env("TROUPE_RUN_DIR")) != NULL)
		return url_of_dir(v, buf, len);
	if (o->o_node != NULL && is_local(o->o_node))
		return url_of_node(o->o_node, buf, len);
	if ((v = env("TROUPE_NODE")) != NULL) {
		if (!name_ok(v)) {
			cli_warn("TROUPE_NODE: '%s' is not a node name", v);
			return EX_USAGE;
		}
		return url_of_node(v, buf, len);
	}
	return url_of_running(o->o_node, buf, len);
}

/*
 * cli_cluster — a local cluster of zero-config trouped daemons: up starts
 * PREFIX1..PREFIXN (those not running yet) and waits until every one lists
 * all the others alive; down stops them by the pids of their pidfiles.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_cluster.h"
#include "cli_print.h"
#include "tp_run.h"

#define PATH_BYTES 4096
#define POLL_MS 50

extern char **environ;

struct node {
	char		 n_name[64];
	char		 n_dir[PATH_BYTES];
	long		 n_pid;
	bool		 n_started;	/* by this run */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap(void)
{
	struct timespec ts = { 0, POLL_MS * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- pidfiles: trouped holds an flock on its pidfile while it runs ---- */

static void
pidfile_path(const struct node *n, char *buf, size_t len)
{
	snprintf(buf, len, "%s/trouped.pid", n->n_dir);
}

/* The pid of the trouped holding n's pidfile, or 0 when none does (no
 * file, or a file left unlocked): a recycled pid is never signalled. */
static long
holder(const struct node *n)
{
	char path[PATH_BYTES + 16], buf[32];
	long pid = 0;
	ssize_t got;
	int fd;

	pidfile_path(n, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK &&
	    (got = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[got] = '\0';
		pid = strtol(buf, NULL, 10);
	}
	close(fd);
	return pid > 0 ? pid : 0;
}

/* ---- up ---- */

/* trouped next to this troupe (an installed pair, or build/bin), else
 * whatever PATH finds. */
static void
trouped_path(char *buf, size_t len, bool *search)
{
	char exe[PATH_BYTES];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	*search = true;
	snprintf(buf, len, "trouped");
	if (n <= 0)
		return;
	exe[n] = '\0';
	if (snprintf(buf, len, "%s/trouped", dirname(exe)) < (int)len &&
	    access(buf, X_OK) == 0) {
		*search = false;
		return;
	}
	snprintf(buf, len, "trouped");
}

/* The children get our environment minus what would make them leave
 * zero-config (TROUPE_RUN_DIR) or confuse their CLI users (TROUPE_NODE). */
static char **
child_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "TROUPE_RUN_DIR=", 15) != 0 &&
		    strncmp(environ[i], "TROUPE_NODE=", 12) != 0)
			env[k++] = environ[i];
	return env;
}

/* Starts trouped --daemon for n and waits for its first process, which
 * exits once the daemon is ready (0) or has failed (1, its line on our
 * stderr). */
static int
spawn_node(struct node *n, char **env)
{
	char exe[PATH_BYTES], pidf[PATH_BYTES + 16], logf[PATH_BYTES + 16];
	char *argv[] = { exe, "--node", n->n_name, "--daemon", "--pidfile",
	    pidf, "--log-file", logf, NULL };
	bool search;
	pid_t pid;
	int rv, status;

	trouped_path(exe, sizeof(exe), &search);
	pidfile_path(n, pidf, sizeof(pidf));
	snprintf(logf, sizeof(logf), "%s/trouped.log", n->n_dir);
	rv = search ? posix_spawnp(&pid, exe, NULL, NULL, argv, env) :
	    posix_spawn(&pid, exe, NULL, NULL, argv, env);
	if (rv != 0) {
		cli_warn("cannot start %s: %s", exe, strerror(rv));
		return EX_UNAVAILABLE;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_warn("%s: trouped did not start (see %s)", n->n_name, logf);
		return 1;
	}
	n->n_pid = holder(n);
	n->n_started = true;
	return 0;
}

/* BASE/NAME is made here (0700) so that the pidfile and the log have a
 * home before trouped makes the rest of its run dir. */
static int
make_dirs(const char *base, const struct node *n)
{
	if ((mkdir(base, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(n->n_dir, 0700) != 0 && errno != EEXIST)) {
		cli_warn("cannot create %s: %s", n->n_dir, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

static int
node_init(struct node *n, const char *base, const char *prefix, int k)
{
	int a = snprintf(n->n_name, sizeof(n->n_name), "%s%d", prefix, k);
	/* from prefix and k again, not from n_name: gcc -O1 (sanitize)
	 * cannot tell the two fields apart and refuses the overlap */
	int b = snprintf(n->n_dir, sizeof(n->n_dir), "%s/%s%d", base, prefix,
	    k);

	if (a < 0 || (size_t)a >= sizeof(n->n_name) || b < 0 ||
	    (size_t)b >= sizeof(n->n_dir)) {
		cli_warn("node name or run dir too long: %s%d", prefix, k);
		return EX_USAGE;
	}
	n->n_pid = holder(n);
	n->n_started = false;
	return 0;
}

static int
start_all(struct node *nodes, int count, const char *base)
{
	char **env = child_env();
	int rv = 0;

	if (env == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	for (int k = 0; k < count && rv == 0; k++)
		if (nodes[k].n_pid == 0 &&
		    (rv = make_dirs(base, &nodes[k])) == 0)
			rv = spawn_node(&nodes[k], env);
	free(env);
	return rv;
}

/* How many of the nodes n's broker lists alive (itself included); -1
 * when it does not answer. */
static int
alive_seen(const struct cli_opts *o, const struct node *n,
    const struct node *nodes, int count)
{
	struct cli_opts q = *o;
	char url[PATH_BYTES + 32];
	json_t *r, *m;
	size_t i;
	int seen = 0;

	snprintf(url, sizeof(url), "ipc://%s/ctl.sock", n->n_dir);
	q.o_broker = url;
	if (cli_control(&q, "nodes", &r) != 0)
		return -1;
	json_array_foreach(r, i, m) {
		const char *name = json_string_value(json_object_get(m,
		    "name"));
		const char *st = json_string_value(json_object_get(m,
		    "state"));

		for (int k = 0; name && st && k < count; k++)
			if (strcmp(name, nodes[k].n_name) == 0 &&
			    strcmp(st, "alive") == 0)
				seen++;
	}
	json_decref(r);
	return seen;
}

static bool
formed(const struct cli_opts *o, const struct node *nodes, int count)
{
	for (int k = 0; k < count; k++)
		if (alive_seen(o, &nodes[k], nodes, count) != count)
			return false;
	return true;
}

static int
print_up(const struct cli_opts *o, const struct node *nodes, int count,
    uint64_t ms)
{
	json_t *arr = json_array();

	for (int k = 0; arr != NULL && k < count; k++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:b}",
		    "name", nodes[k].n_name, "pid", (json_int_t)nodes[k].n_pid,
		    "run_dir", nodes[k].n_dir, "started",
		    nodes[k].n_started));
	if (arr == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	if (o->o_json) {
		int rv = cli_print_json(arr);

		json_decref(arr);
		return rv;
	}
	json_decref(arr);
	for (int k = 0; k < count; k++)
		printf("%s  pid %ld  %s  %s\n", nodes[k].n_name,
		    nodes[k].n_pid, nodes[k].n_started ? "started" :
		    "already running", nodes[k].n_dir);
	printf("cluster of %d formed in %llu ms; try: troupe --node %s "
	    "nodes\n", count, (unsigned long long)ms, nodes[0].n_name);
	return 0;
}

static int
parse_count(const char *s, int *n)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 1 ||
	    v > CLI_CLUSTER_MAX) {
		cli_warn("cluster up: N must be 1..%d, not '%s'",
		    CLI_CLUSTER_MAX, s);
		return EX_USAGE;
	}
	*n = (int)v;
	return 0;
}

static int
cluster_up(const struct cli_opts *o, const char *count_arg,
    const char *prefix, const char *base)
{
	struct node nodes[CLI_CLUSTER_MAX];
	uint64_t t0 = now_ms(), deadline;
	char d[32];
	int n, rv;

	if ((rv = parse_count(count_arg, &n)) != 0)
		return rv;
	for (int k = 0; k < n; k++)
		if ((rv = node_init(&nodes[k], base, prefix, k + 1)) != 0)
			return rv;
	if ((rv = start_all(nodes, n, base)) != 0)
		return rv;
	deadline = now_ms() + (uint64_t)o->o_timeout;
	while (!formed(o, nodes, n)) {
		if (now_ms() >= deadline) {
			cli_fmt_duration(o->o_timeout, d, sizeof(d));
			cli_warn("the %d nodes do not all list each other "
			    "alive after %s", n, d);
			return EX_TEMPFAIL;
		}
		nap();
	}
	return print_up(o, nodes, n, now_ms() - t0);
}

/* ---- down ---- */

/* PREFIX followed by digits only: cluster down --prefix n leaves "node"
 * and "n1x" alone. */
static bool
is_member(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);

	return strncmp(name, prefix, pl) == 0 && name[pl] != '\0' &&
	    strspn(name + pl, "0123456789") == strlen(name + pl) &&
	    strlen(name) < 64;
}

static int
signal_node(const struct node *n)
{
	if (kill((pid_t)n->n_pid, SIGTERM) == 0 || errno == ESRCH)
		return 0;
	cli_warn("%s: cannot stop pid %ld: %s", n->n_name, n->n_pid,
	    strerror(errno));
	return errno == EPERM ? EX_NOPERM : 1;
}

/* Stopped once the pid no longer holds the pidfile (trouped unlinks it
 * as it exits, after its drain). */
static int
wait_node(const struct node *n)
{
	uint64_t deadline = now_ms() + CLI_CLUSTER_STOP_MS;

	while (holder(n) == n->n_pid) {
		if (now_ms() >= deadline) {
			cli_warn("%s: pid %ld still running after %d s",
			    n->n_name, n->n_pid, CLI_CLUSTER_STOP_MS / 1000);
			return EX_TEMPFAIL;
		}
		nap();
	}
	printf("%s  stopped pid %ld\n", n->n_name, n->n_pid);
	return 0;
}

/* SIGTERM to all first, then wait for each: they drain side by side. */
static int
cluster_down(const char *prefix, const char *base)
{
	struct node nodes[CLI_CLUSTER_MAX];
	struct dirent *de;
	int n = 0, rv = 0, r;
	DIR *dir;

	if ((dir = opendir(base)) == NULL)
		return 0;		/* nothing ever ran here */
	while ((de = readdir(dir)) != NULL && n < CLI_CLUSTER_MAX) {
		struct node *nd = &nodes[n];

		if (!is_member(de->d_name, prefix))
			continue;
		memcpy(nd->n_name, de->d_name, strlen(de->d_name) + 1);
		if (snprintf(nd->n_dir, sizeof(nd->n_dir), "%s/%s", base,
		    de->d_name) < (int)sizeof(nd->n_dir) &&
		    (nd->n_pid = holder(nd)) > 0)
			n++;
	}
	closedir(dir);
	for (int k = 0; k < n; k++)
		if ((r = signal_node(&nodes[k])) != 0 && rv == 0)
			rv = r;
	for (int k = 0; k < n; k++)
		if ((r = wait_node(&nodes[k])) != 0 && rv == 0)
			rv = r;
	return rv;
}

int
cli_cmd_cluster(const struct cli_opts *o, char **args)
{
	const char *prefix = o->o_prefix != NULL ? o->o_prefix : "n";
	char base[PATH_BYTES];

	if (prefix[0] == '\0' || strspn(prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(prefix) ||
	    strlen(prefix) > 40) {
		cli_warn("cluster: --prefix must be letters, digits, _ or -");
		return EX_USAGE;
	}
	if (tp_run_node_base(base, sizeof(base)) != 0) {
		cli_warn("the runtime directory is too long");
		return EX_USAGE;
	}
	if (strcmp(args[0], "up") == 0 && args[1] != NULL)
		return cluster_up(o, args[1], prefix, base);
	if (strcmp(args[0], "down") == 0 && args[1] == NULL)
		return cluster_down(prefix, base);
	cli_warn("usage: troupe cluster up N [--prefix P] | down "
	    "[--prefix P]");
	return EX_USAGE;
}

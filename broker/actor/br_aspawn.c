/*
 * br_aspawn — starting an actor's process (part of the actor table,
 * br_actor): posix_spawn with a clean signal state in its own process
 * group, the program found next to trouped or in PATH, and the
 * environment that tells it its mailbox.  No shell.  Loop thread only.
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "br.h"
#include "br_actor_int.h"
#include "br_guard.h"
#include "br_log.h"

extern char **environ;

#define ENV_OWN 7		/* TROUPE_* variables set for each actor */

/* A bare program name is looked up next to trouped first (the built-in
 * actors are installed there), then in PATH by posix_spawnp. */
static const char *
resolve_prog(struct br *br, const char *prog, char *buf, size_t len)
{
	if (strchr(prog, '/') != NULL)
		return prog;
	snprintf(buf, len, "%s/%s", br->b_bin_dir, prog);
	return access(buf, X_OK) == 0 ? buf : prog;
}

/* The child's environment: ours minus stale TROUPE_ actor variables,
 * plus its own.  envbuf holds the strings; returns NULL-ended envp. */
static char **
build_env(struct br_actor *a, char (*vars)[BR_PATH_MAX + BR_NAME_MAX + 64])
{
	static const char *own[] = { "TROUPE_MAILBOX=", "TROUPE_ACTOR=",
	    "TROUPE_NODE=", "TROUPE_BROKER_PID=", "TROUPE_RUN_DIR=",
	    "TROUPE_INFLIGHT=", "TROUPE_SPIN_US=" };
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n] != NULL)
		n++;
	if ((envp = calloc(n + ENV_OWN + 1, sizeof(*envp))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool skip = false;

		for (size_t j = 0; j < ENV_OWN; j++)
			skip |= strncmp(environ[i], own[j],
			    strlen(own[j])) == 0;
		if (!skip)
			envp[k++] = environ[i];
	}
	snprintf(vars[0], sizeof(vars[0]), "TROUPE_MAILBOX=%s", a->a_url);
	snprintf(vars[1], sizeof(vars[1]), "TROUPE_ACTOR=%s",
	    a->a_conf.ca_name);
	snprintf(vars[2], sizeof(vars[2]), "TROUPE_NODE=%s", a->a_br->b_node);
	snprintf(vars[3], sizeof(vars[3]), "TROUPE_BROKER_PID=%ld",
	    (long)getpid());
	snprintf(vars[4], sizeof(vars[4]), "TROUPE_RUN_DIR=%s",
	    a->a_br->b_run_dir);
	snprintf(vars[5], sizeof(vars[5]), "TROUPE_INFLIGHT=%u",
	    a->a_conf.ca_inflight);
	snprintf(vars[6], sizeof(vars[6]), "TROUPE_SPIN_US=%u",
	    a->a_br->b_conf->c_spin_us);
	for (size_t j = 0; j < ENV_OWN; j++)
		envp[k++] = vars[j];
	envp[k] = NULL;
	return envp;
}

/* The broker blocks its signals for the signalfd; the child must start
 * with a clean mask and default dispositions, in its own process group
 * (a terminal's ^C goes to the broker, which then stops actors in order). */
static int
spawn_attrs(posix_spawnattr_t *at)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_init(at) != 0)
		return -1;
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &all);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	return 0;
}

int
br_actor_spawn(struct br_actor *a)
{
	char cmd[BR_PATH_MAX], path[BR_PATH_MAX * 2];
	char vars[ENV_OWN][BR_PATH_MAX + BR_NAME_MAX + 64];
	char *argv[BR_MAX_ARGV];
	posix_spawnattr_t at;
	const char *prog;
	char **envp;
	pid_t pid;
	int rv;

	if (br_conf_split_exec(a->a_conf.ca_exec, cmd, sizeof(cmd),
	    argv) <= 0 || spawn_attrs(&at) != 0)
		return -1;
	if ((envp = build_env(a, vars)) == NULL) {
		posix_spawnattr_destroy(&at);
		return -1;
	}
	prog = resolve_prog(a->a_br, argv[0], path, sizeof(path));
	br_gate_expect(a->a_gate, BR_GATE_SPAWNING);
	rv = posix_spawnp(&pid, prog, NULL, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	free(envp);
	br_gate_expect(a->a_gate, rv == 0 ? pid : 0);
	if (rv != 0) {
		log_error("cannot start actor", "actor=%s exec=\"%s\" "
		    "error=\"%s\"", a->a_conf.ca_name, prog, strerror(rv));
		snprintf(a->a_last_exit, sizeof(a->a_last_exit),
		    "spawn failed: %s", strerror(rv));
		return -1;
	}
	a->a_pid = pid;
	a->a_state = BR_A_STARTING;
	a->a_started_ms = br_now_ms();
	if (a->a_pool != NULL)
		br_actor_pool_state(a->a_pool);
	a->a_br->b_stats.st_spawns++;
	log_info("actor started", "actor=%s pid=%ld", a->a_conf.ca_name,
	    (long)pid);
	return 0;
}

/*
 * bn_proc — the processes a bench starts (trouped, the troupe CLI,
 * mosquitto, apt-get): spawned with files for their standard streams,
 * waited for within a bound, and remembered until reaped, so that a
 * bench that fails or is interrupted still stops each of them by pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bn.h"

extern char **environ;

#define MAX_LIVE 32
#define MAX_ENV 512

/* Children not reaped yet.  Read by the signal handler: plain stores of
 * a pid_t are all it needs to see. */
static volatile pid_t live[MAX_LIVE];

static void
live_set(pid_t old, pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] == old) {
			live[i] = pid;
			return;
		}
	if (old == 0)
		bn_die("more than %d processes at once", MAX_LIVE);
}

void
bn_proc_track(pid_t pid)
{
	live_set(0, pid);
}

void
bn_proc_untrack(pid_t pid)
{
	live_set(pid, 0);
}

/* Only kill and waitpid: it also runs from a signal handler. */
void
bn_proc_abort_all(void)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		pid_t pid = live[i];

		if (pid <= 0)
			continue;
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		live[i] = 0;
	}
}

char **
bn_proc_env(const char *run_dir)
{
	static char *envp[MAX_ENV];
	static char var[400];
	size_t k = 0;

	for (char **e = environ; *e != NULL && k < MAX_ENV - 2; e++)
		if (run_dir == NULL || strncmp(*e, "TROUPE_RUN_DIR=", 15) != 0)
			envp[k++] = *e;
	if (run_dir != NULL) {
		snprintf(var, sizeof(var), "TROUPE_RUN_DIR=%s", run_dir);
		envp[k++] = var;
	}
	envp[k] = NULL;
	return envp;
}

/* fd gets path opened with flags, unless path is NULL (inherited). */
static void
redirect(posix_spawn_file_actions_t *fa, int fd, const char *path, int flags)
{
	if (path != NULL)
		posix_spawn_file_actions_addopen(fa, fd, path, flags, 0600);
}

pid_t
bn_proc_spawn(char *const *argv, char *const *envp, const char *in,
    const char *out, const char *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rv;

	posix_spawn_file_actions_init(&fa);
	redirect(&fa, 0, in, O_RDONLY);
	redirect(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC);
	if (err != NULL && out != NULL && strcmp(err, out) == 0)
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	else
		redirect(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC);
	rv = posix_spawnp(&pid, argv[0], &fa, NULL, argv,
	    envp != NULL ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0) {
		errno = rv;
		return -1;
	}
	bn_proc_track(pid);
	return pid;
}

/* Reaps pid if it has exited; true then, with its status. */
static bool
reaped(pid_t pid, int *status)
{
	int st = 0;

	if (waitpid(pid, &st, WNOHANG) != pid)
		return false;
	bn_proc_untrack(pid);
	if (status != NULL)
		*status = st;
	return true;
}

int
bn_proc_wait(pid_t pid, int timeout_ms, int *status)
{
	uint64_t dl = bn_now_ns() + (uint64_t)timeout_ms * 1000000;

	/* a 200 us nap: small against the seconds these runs last */
	while (!reaped(pid, status)) {
		if (timeout_ms >= 0 && bn_now_ns() > dl)
			return -1;
		usleep(200);
	}
	return 0;
}

void
bn_proc_stop(pid_t pid, int timeout_ms)
{
	if (reaped(pid, NULL))
		return;
	kill(pid, SIGTERM);
	if (bn_proc_wait(pid, timeout_ms, NULL) == 0)
		return;
	fprintf(stderr, "bench: pid %ld ignored SIGTERM, killing it\n",
	    (long)pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	bn_proc_untrack(pid);
}

const char *
bn_proc_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %#x", status);
	return buf;
}

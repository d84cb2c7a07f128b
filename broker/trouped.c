/*
 * trouped — the troupe broker daemon: parses its arguments and config,
 * prepares the run dir, opens the control socket and the actors'
 * mailboxes, spawns the actors and runs the event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "br.h"
#include "br_actor.h"
#include "br_alink.h"
#include "br_route.h"
#include "br_client.h"
#include "br_ctl.h"
#include "br_await.h"
#include "br_daemon.h"
#include "br_disc.h"
#include "br_durable.h"
#include "br_log.h"
#include "br_peer.h"
#include "br_metrics.h"
#include "br_sup.h"
#include "br_topic.h"
#include "tp_nng.h"
#include "tp_run.h"

#define EX_USAGE 64
#define EX_CONFIG 78
#define TICK_MS 20
#define MAX_SETS 64
#define ZC_SETS 5		/* the defaults zero-config puts first */

struct opts {
	const char	*o_conf;
	const char	*o_sets[MAX_SETS];
	size_t		 o_nsets;
	bool		 o_check;
	bool		 o_print;
	bool		 o_daemon;
	const char	*o_pidfile;
	const char	*o_log_file;
	enum br_log_format o_log_format;
	char		 o_setbuf[3][BR_PATH_MAX + 16];
	bool		 o_zeroconf;
	char		 o_zcbuf[ZC_SETS][BR_PATH_MAX + 32];
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: trouped [-c FILE] [--node NAME] [--run-dir DIR] "
	    "[--listen URL]\n"
	    "               [--set SECTION.KEY=VALUE]... [--log-level LEVEL]"
	    "\n               [--log-format logfmt|json] [--log-file PATH]"
	    "\n               [--daemon] [--pidfile FILE]"
	    "\n               [--check-config [--print]]\n");
}

static int
add_set(struct opts *o, const char *s)
{
	if (o->o_nsets >= MAX_SETS) {
		fprintf(stderr, "trouped: too many --set options\n");
		return -1;
	}
	o->o_sets[o->o_nsets++] = s;
	return 0;
}

static int
shorthand(struct opts *o, int idx, const char *key, const char *val)
{
	snprintf(o->o_setbuf[idx], sizeof(o->o_setbuf[idx]), "node.%s=%s",
	    key, val);
	return add_set(o, o->o_setbuf[idx]);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "set", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "print", no_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "log-file", required_argument, NULL, 'F' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, lvl, fmt, rv = 0;

	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->o_conf = optarg; break;
		case 'n': rv = shorthand(o, 0, "name", optarg); break;
		case 'r': rv = shorthand(o, 1, "run_dir", optarg); break;
		case 'l': rv = shorthand(o, 2, "listen", optarg); break;
		case 's': rv = add_set(o, optarg); break;
		case 'C': o->o_check = true; break;
		case 'P': o->o_print = true; break;
		case 'L':
			if ((lvl = br_log_parse_level(optarg)) < 0) {
				fprintf(stderr, "trouped: unknown log level "
				    "'%s'\n", optarg);
				return -1;
			}
			br_log_set_level(lvl);
			break;
		case 'f':
			if ((fmt = br_log_parse_format(optarg)) < 0) {
				fprintf(stderr, "trouped: unknown log format "
				    "'%s'\n", optarg);
				return -1;
			}
			o->o_log_format = fmt;
			break;
		case 'F': o->o_log_file = optarg; break;
		case 'D': o->o_daemon = true; break;
		case 'p': o->o_pidfile = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (rv != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "trouped: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
resolve_run_dir(struct br *br)
{
	const char *env = getenv("TROUPE_RUN_DIR");
	char *d = br->b_run_dir;
	size_t n = sizeof(br->b_run_dir);

	if (env != NULL && *env != '\0')
		snprintf(d, n, "%s", env);
	else if (br->b_conf->c_run_dir[0] != '\0')
		snprintf(d, n, "%s", br->b_conf->c_run_dir);
	else
		tp_run_default_dir(d, n);
}

/* The run dir holds sockets that grant control of the node: it must be
 * ours and closed to others. */
static int
make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create run dir", "path=%s error=\"%s\"",
		    path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid()) {
		log_error("run dir is not a directory owned by us",
		    "path=%s", path);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) != 0)
		return -1;
	return 0;
}

/* Two brokers on one run dir would steal each other's sockets. */
static int
check_not_running(struct br *br)
{
	char url[BR_PATH_MAX + 16];
	struct tp_err err;
	nng_socket s;
	int rv;

	snprintf(url, sizeof(url), "ipc://%s/ctl.sock", br->b_run_dir);
	if (tp_sock_open(&s, TP_REQ, NULL, &err) != 0) {
		log_error("cannot open a socket", "error=\"%s\"", err.e_msg);
		return -1;
	}
	rv = tp_dial(s, url, true, NULL);
	nng_close(s);
	if (rv == 0) {
		log_error("another trouped is running on this run dir",
		    "run_dir=%s", br->b_run_dir);
		return -1;
	}
	return 0;
}

/* A zero-config run dir is BASE/NAME: BASE is made first, closed too
 * (it lists the user's nodes). */
static int
prepare_run_dir(struct br *br, bool zeroconf)
{
	char mbx[BR_PATH_MAX + 8], base[BR_PATH_MAX];

	resolve_run_dir(br);
	snprintf(mbx, sizeof(mbx), "%s/mbx", br->b_run_dir);
	snprintf(base, sizeof(base), "%s", br->b_run_dir);
	if (zeroconf && make_dir(dirname(base)) != 0)
		return -1;
	if (make_dir(br->b_run_dir) != 0 || make_dir(mbx) != 0 ||
	    br_acl_init(&br->b_acl, br->b_conf, br->b_run_dir) != 0)
		return -1;
	return check_not_running(br);
}

static void
find_bin_dir(struct br *br)
{
	char exe[BR_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		snprintf(br->b_bin_dir, sizeof(br->b_bin_dir), ".");
		return;
	}
	exe[n] = '\0';
	snprintf(br->b_bin_dir, sizeof(br->b_bin_dir), "%s", dirname(exe));
}

static void
reap(struct br *br)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		br_actor_exited(br, pid, status);
}

/* What SIGHUP reloads from: the same file and the same --set overrides
 * as at start. */
static const struct opts *reload_opts;

/* All or nothing: a config that does not load leaves everything as it
 * is; br_conf_load has validated what sup_reload applies. */
static void
reload(struct br *br)
{
	const struct opts *o = reload_opts;
	struct br_conf *conf;
	char err[512];

	br_sd_notify("RELOADING=1");
	br_log_reopen();
	log_info("reloading config", "file=%s", o->o_conf ? o->o_conf :
	    "(built in)");
	if (br_conf_load(o->o_conf, o->o_sets, o->o_nsets, &conf, err,
	    sizeof(err)) != 0)
		log_error("reload failed, config unchanged", "error=\"%s\"",
		    err);
	else if (sup_reload(br, conf) == 0)
		br_topic_sync_conf(br);
	br_sd_notify("READY=1");
}

static void
on_signal(void *arg)
{
	struct br *br = arg;
	struct signalfd_siginfo si;

	while (read(br->b_sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(br);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("stopping", "signal=%u", si.ssi_signo);
			if (!br->b_stopping)
				br_sd_notify("STOPPING=1");
			sup_shutdown(br);
			break;
		case SIGHUP:
			reload(br);
			break;
		}
	}
}

static void
on_timer(void *arg)
{
	struct br *br = arg;
	uint64_t ticks, now = br_now_ms();

	if (read(br->b_timerfd, &ticks, sizeof(ticks)) < 0)
		return;
	sup_tick(br, now);
	br_route_tick(br, now);
	br_metrics_tick(br, now);
	br_disc_tick(br, now);
	br_peers_tick(br, now);
	br_await_tick(br, now);
	br_clients_tick(br, now);
}

static void
before_sleep(void *arg)
{
	br_actors_flush(arg);
	br_clients_flush(arg);
	br_peers_flush(arg);
}

/* Signals are blocked before nng starts its threads, so every thread
 * inherits the mask and they all arrive at the signalfd. */
static int
open_signals(struct br *br)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	br->b_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return br->b_sigfd < 0 ? -1 : 0;
}

static int
open_timer(struct br *br)
{
	struct itimerspec it = { { 0, TICK_MS * 1000000L },
	    { 0, TICK_MS * 1000000L } };

	br->b_timerfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC);
	if (br->b_timerfd < 0 || timerfd_settime(br->b_timerfd, 0, &it,
	    NULL) != 0)
		return -1;
	return 0;
}

static void
set_limits(struct br *br)
{
	br->b_lim = tp_limits_default;
	br->b_lim.l_max_body = br->b_conf->c_max_body;
	br->b_lim.l_max_depth = br->b_conf->c_max_depth;
	br->b_lim.l_max_frame = br->b_conf->c_max_body * 2 + 65536;
	if (br->b_lim.l_max_frame < (4u << 20))
		br->b_lim.l_max_frame = 4u << 20;
}

/* The actor table tells the modules above it through these: the actor
 * link protocol, supervision, and routing for what a removed actor left
 * undelivered. */
/* A process's run-time subscriptions end with it. */
static void
actor_exited(void *arg, struct br_actor *a, int status)
{
	br_topic_forget(arg, br_actor_index(a));
	sup_exited(a, status);
}

static void
actor_link_down(void *arg, struct br_actor *a)
{
	sup_link_down(a);
}

static void
actor_dropped(void *arg, struct mbx_item *list)
{
	br_route_dropped(arg, list);
}

static const struct br_actor_ops actor_ops = { br_alink_env, actor_exited,
    actor_link_down, actor_dropped };

/* What the peer links tell the router and br_await (br_plink.h). */
static const struct br_peer_ops peer_ops = {
	.po_env = br_route_peer_env,
	.po_room = br_route_link_room,
	.po_down = br_route_link_down,
	.po_changed = br_await_kick,
};

static int
start(struct br *br)
{
	br_actors_set_ops(br, &actor_ops, br);
	if (br_loop_init(&br->b_loop) != 0 ||
	    br_loop_add(&br->b_loop, br->b_sigfd, on_signal, br, NULL) != 0 ||
	    open_timer(br) != 0 ||
	    br_loop_add(&br->b_loop, br->b_timerfd, on_timer, br, NULL) != 0 ||
	    (br->b_zone = msgpack_zone_new(4096)) == NULL ||
	    tp_frame_cache_init(&br->b_fcache, BR_FRAME_CACHE) != 0 ||
	    br_route_init(br) != 0 || br_topic_init(br) != 0 ||
	    br_actors_init(br) != 0 ||
	    sup_init(br) != 0 || br_ctl_open(br) != 0 ||
	    br_clients_init(br) != 0 ||
	    br_tap_open(&br->b_tap, br->b_run_dir, br->b_node, &br->b_lim) ||
	    br_metrics_open(br) != 0 || br_peers_init(br, &peer_ops) != 0 ||
	    br_disc_init(br) != 0 || br_dur_init(br) != 0)
		return -1;
	br->b_loop.l_before_sleep = before_sleep;
	br->b_loop.l_before_arg = br;
	br->b_loop.l_spin_us = br->b_conf->c_spin_us;
	for (size_t i = 0; i < br->b_conf->c_nactors; i++)
		if (br_actor_add(br, &br->b_conf->c_actors[i]) != 0)
			return -1;
	br_topic_sync_conf(br);
	return sup_start_all(br);
}

static void
stop(struct br *br)
{
	br->b_stopping = true;
	br_actors_kill_all(br);	/* after a drain nothing is left */
	br_ctl_close(br);
	br_clients_fini(br);
	br_metrics_close(br);
	br_tap_close(&br->b_tap);
	br_await_fini(br);
	br_peers_fini(br);
	br_disc_fini(br);
	br_actors_fini(br);
	br_dur_fini(br);
	sup_fini(br);
	br_topic_fini(br);
	br_route_fini(br);
	if (br->b_zone != NULL)
		msgpack_zone_free(br->b_zone);
	tp_frame_cache_free(&br->b_fcache);
	br_loop_fini(&br->b_loop);
	close(br->b_timerfd);
	close(br->b_sigfd);
}

/* Before the fork: a log file that cannot be opened is reported on the
 * terminal. Daemonized without a file, logs go to syslog. */
static int
open_log(const struct opts *o)
{
	struct br_log_opts lo = { o->o_log_file, o->o_log_format,
	    o->o_daemon && o->o_log_file == NULL };
	char err[512];

	if (br_log_open(&lo, err, sizeof(err)) != 0) {
		fprintf(stderr, "trouped: %s\n", err);
		return -1;
	}
	return 0;
}

/* nng is not fork-safe: this runs before the first nng call. */
static int
daemonize(const struct opts *o, struct br_daemon *d)
{
	struct br_daemon_opts dop = { o->o_daemon, o->o_pidfile };
	char err[512];

	if (br_daemon_detach(d, &dop, err, sizeof(err)) != 0) {
		fprintf(stderr, "trouped: %s\n", err);
		return -1;
	}
	return 0;
}

/* An override of key ("node.run_dir") is among the --set options. */
static bool
set_given(const struct opts *o, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < o->o_nsets; i++) {
		const char *s = o->o_sets[i] + strspn(o->o_sets[i], " \t");

		if (strncmp(s, key, n) == 0 && s[n + strspn(s + n, " \t")] ==
		    '=')
			return true;
	}
	return false;
}

/*
 * Zero-config (docs/trouped.8): no config file, no TROUPE_RUN_DIR and no
 * node.run_dir given.  The node then gets defaults of its own, put before
 * the user's --set options, which therefore still win key by key.
 */
static bool
zeroconf_applies(const struct opts *o)
{
	const char *env = getenv("TROUPE_RUN_DIR");

	return o->o_conf == NULL && (env == NULL || *env == '\0') &&
	    !set_given(o, "node.run_dir");
}

/* Writes the zero-config defaults of node name into o->o_zcbuf; returns
 * how many, or -1 when a path does not fit. */
static int
zeroconf_sets(struct opts *o, const char *name)
{
	bool seeds = set_given(o, "cluster.seeds");
	bool out = seeds || set_given(o, "cluster.interface");
	char dir[BR_PATH_MAX], data[BR_PATH_MAX];
	size_t len = sizeof(o->o_zcbuf[0]);
	int n[ZC_SETS];

	if (tp_run_node_dir(name, dir, sizeof(dir)) != 0)
		return -1;
	br_dur_default_dir(data, sizeof(data));
	n[0] = snprintf(o->o_zcbuf[0], len, "node.run_dir=%s", dir);
	n[1] = snprintf(o->o_zcbuf[1], len, "node.data_dir=%s/%s", data,
	    name);
	/* nothing leaves the machine unless the user points it outwards */
	n[2] = snprintf(o->o_zcbuf[2], len, "node.listen=tcp://%s:0",
	    out ? "0.0.0.0" : "127.0.0.1");
	n[3] = snprintf(o->o_zcbuf[3], len, "cluster.discovery=%s",
	    seeds ? "both" : "multicast");
	n[4] = snprintf(o->o_zcbuf[4], len, "cluster.group=auto");
	for (int i = 0; i < ZC_SETS; i++)
		if (n[i] < 0 || (size_t)n[i] >= len)
			return -1;
	return ZC_SETS;
}

/* Puts the zero-config defaults before the user's overrides (kept for
 * SIGHUP, which loads with the same list). */
static int
zeroconf_prepend(struct opts *o, const char *name)
{
	int n = zeroconf_sets(o, name);

	if (n < 0) {
		fprintf(stderr, "trouped: the run dir of node %s is too long\n",
		    name);
		return -1;
	}
	if (o->o_nsets + (size_t)n > MAX_SETS) {
		fprintf(stderr, "trouped: too many --set options\n");
		return -1;
	}
	memmove(o->o_sets + n, o->o_sets, o->o_nsets * sizeof(o->o_sets[0]));
	for (int i = 0; i < n; i++)
		o->o_sets[i] = o->o_zcbuf[i];
	o->o_nsets += (size_t)n;
	o->o_zeroconf = true;
	return 0;
}

static int
load_conf(struct opts *o, struct br_conf **conf)
{
	char err[512];
	int rv;

	if (br_conf_load(o->o_conf, o->o_sets, o->o_nsets, conf, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "trouped: %s\n", err);
		return -1;
	}
	if (!zeroconf_applies(o))
		return 0;
	/* the node's name (--node, else the host's) names its run dir */
	rv = zeroconf_prepend(o, (*conf)->c_node);
	br_conf_free(*conf);
	*conf = NULL;
	if (rv == 0 && br_conf_load(NULL, o->o_sets, o->o_nsets, conf, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "trouped: %s\n", err);
		return -1;
	}
	return rv;
}

int
main(int argc, char **argv)
{
	static struct br br;
	static struct br_daemon dmn;
	struct opts o = { 0 };
	int rv = 1;

	if (parse_args(argc, argv, &o) != 0)
		return EX_USAGE;
	if (load_conf(&o, &br.b_conf) != 0)
		return EX_CONFIG;
	if (o.o_check) {
		if (o.o_print)
			br_conf_print(br.b_conf, stdout);
		br_conf_free(br.b_conf);
		return 0;
	}
	if (open_log(&o) != 0 || daemonize(&o, &dmn) != 0) {
		br_conf_free(br.b_conf);
		return 1;
	}
	snprintf(br.b_node, sizeof(br.b_node), "%s", br.b_conf->c_node);
	br.b_start_ms = br_now_ms();
	set_limits(&br);
	find_bin_dir(&br);
	/* after the fork: a child does not inherit it */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* The cluster key first: a bad one stops us before anything opens. */
	if (br_disc_setup(&br) != 0 || open_signals(&br) != 0 ||
	    prepare_run_dir(&br, o.o_zeroconf) != 0) {
		br_daemon_fail(&dmn, br_log_last_error());
		goto out;
	}
	if (start(&br) != 0) {
		br_daemon_fail(&dmn, br_log_last_error());
		goto out_stop;
	}
	log_info("trouped ready", "node=%s run_dir=%s pid=%ld actors=%u "
	    "zeroconf=%s", br.b_node, br.b_run_dir, (long)getpid(),
	    br.b_nactors, o.o_zeroconf ? "yes" : "no");
	br_daemon_ready(&dmn);
	reload_opts = &o;
	br_loop_run(&br.b_loop, 1000);
	rv = 0;
out_stop:
	stop(&br);
	log_info("trouped stopped", "exit=%d", rv);
out:
	/* Refused before start (key, run dir): its error line says it all. */
	br_disc_fini(&br);
	br_conf_free(br.b_conf);
	br_daemon_close(&dmn);
	br_log_close();
	return rv;
}

/*
 * bn_stream — B9c: a file of JSON lines streamed by a command line tool
 * into a local broker, end to end (process start to exit): `troupe send
 * sink -` into trouped against `mosquitto_pub -l` into a mosquitto of
 * our own on a free 127.0.0.1 port, QoS 1 (the unit) and QoS 0.
 * mosquitto and mosquitto-clients are installed with apt-get when they
 * are missing and we are root; else the mosquitto figures are skipped
 * with the reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bn_cases.h"

#define ROW "%-4s %-44s %-34s %s\n"
#define LINE_BYTES 110		/* each JSON line, without its newline */
#define CAP_MS 120000		/* each tool's run */
#define APT_MS 600000
#define WHY_MAX 200

struct stream {
	struct bn_run	*s_r;
	char		 s_dir[300];		/* the broker's temp dir */
	char		 s_lines[360];
	uint32_t	 s_n;			/* lines in s_lines */
	char		 s_mosq[PATH_MAX];	/* mosquitto */
	char		 s_pub[PATH_MAX];	/* mosquitto_pub */
	int		 s_port;
	pid_t		 s_mosq_pid;
};

/* One tool's run over the file. */
struct run {
	double		 u_secs;
	uint64_t	 u_done;	/* lines it confirmed */
	bool		 u_capped;	/* stopped at CAP_MS */
	int		 u_status;
};

/* ---- the file ---------------------------------------------------------- */

/* Line i as compact JSON; every field is fixed-width, so that with a
 * pad of the right length every line is LINE_BYTES long. */
static json_t *
line_obj(uint32_t i, const char *pad)
{
	char id[16];

	snprintf(id, sizeof(id), "m%07u", i);
	return json_pack("{s:s, s:s, s:I, s:i, s:s, s:s}", "id", id,
	    "sensor", "temp-17", "ts", (json_int_t)1700000000000 + i,
	    "value", 200 + (int)(i % 100), "unit", "dC", "note", pad);
}

static size_t
dump_line(json_t *j, char *buf, size_t len)
{
	size_t n;

	if (j == NULL || (n = json_dumpb(j, buf, len, JSON_COMPACT)) == 0 ||
	    n >= len)
		bn_die("B9c: cannot make a JSON line");
	json_decref(j);
	return n;
}

static void
write_lines(struct stream *s)
{
	char pad[LINE_BYTES + 1], buf[2 * LINE_BYTES];
	size_t n, padlen;
	FILE *f;

	padlen = LINE_BYTES - dump_line(line_obj(0, ""), buf, sizeof(buf));
	memset(pad, 'x', padlen);
	pad[padlen] = '\0';
	if ((f = fopen(s->s_lines, "w")) == NULL)
		bn_die("B9c: %s: %s", s->s_lines, strerror(errno));
	for (uint32_t i = 0; i < s->s_n; i++) {
		n = dump_line(line_obj(i, pad), buf, sizeof(buf) - 1);
		buf[n++] = '\n';
		if (fwrite(buf, 1, n, f) != n)
			bn_die("B9c: %s: %s", s->s_lines, strerror(errno));
	}
	if (fclose(f) != 0)
		bn_die("B9c: %s: %s", s->s_lines, strerror(errno));
}

/* The last line of path, for a reason in a skipped row. */
static void
last_line(const char *path, char *buf, size_t len)
{
	char line[512];
	FILE *f;

	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		if (strspn(line, " \t\r\n") == n)
			continue;
		n = n < len ? n : len - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
}

/* ---- a tool over the file, timed ---------------------------------------- */

/* Runs argv with the file on stdin, its stdout and stderr in
 * dir/NAME.out and .err; the clock runs from before the spawn until it
 * is reaped. */
static void
timed(struct stream *s, const char *name, char *const *argv,
    struct run *u)
{
	char out[360], err[360];
	uint64_t t0;
	pid_t pid;

	memset(u, 0, sizeof(*u));
	snprintf(out, sizeof(out), "%s/%s.out", s->s_dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", s->s_dir, name);
	t0 = bn_now_ns();
	if ((pid = bn_proc_spawn(argv, NULL, s->s_lines, out, err)) < 0)
		bn_die("B9c: cannot start %s: %s", argv[0], strerror(errno));
	if (bn_proc_wait(pid, CAP_MS, &u->u_status) != 0) {
		u->u_capped = true;
		bn_proc_stop(pid, 2000);
	}
	u->u_secs = (double)(bn_now_ns() - t0) / 1e9;
	if (!u->u_capped && u->u_status != 0) {
		last_line(err, out, sizeof(out));
		fprintf(stderr, "bench: B9c: %s: %s\n", name, out);
	}
}

/* What the sink got is what counts: every line the CLI had placed. */
static void
run_troupe(struct stream *s, struct bn_broker *b, struct run *u)
{
	char prog[PATH_MAX + 16];
	char *argv[] = { prog, "--broker", b->br_ctl_url, "send", "sink", "-",
	    NULL };

	snprintf(prog, sizeof(prog), "%s/troupe", s->s_r->r_bindir);
	bn_op(b, "sink", "reset", "count");
	timed(s, "troupe", argv, u);
	u->u_done = bn_op(b, "sink", "stats", "count");
}

static void
run_pub(struct stream *s, int qos, struct run *u)
{
	char port[16], name[16], q[4];
	char *argv[] = { s->s_pub, "-h", "127.0.0.1", "-p", port, "-l",
	    "-q", q, "-t", "t", NULL };

	snprintf(port, sizeof(port), "%d", s->s_port);
	snprintf(q, sizeof(q), "%d", qos);
	snprintf(name, sizeof(name), "pub-q%d", qos);
	timed(s, name, argv, u);
	/* mosquitto_pub exits 0 once every line is out (QoS 1: acked) */
	u->u_done = !u->u_capped && u->u_status == 0 ? s->s_n : 0;
}

/* ---- mosquitto ---------------------------------------------------------- */

/* The first dir of $PATH, /usr/sbin, /sbin with an executable name. */
static bool
find_prog(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096], *dir, *save = NULL;

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin:/usr/bin",
	    path != NULL ? path : "");
	for (dir = strtok_r(dirs, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", *dir ? dir : ".", name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static bool
have_mosquitto(struct stream *s)
{
	return find_prog("mosquitto", s->s_mosq, sizeof(s->s_mosq)) &&
	    find_prog("mosquitto_pub", s->s_pub, sizeof(s->s_pub));
}

/* Runs argv to completion within ms, output into log; its exit code, or
 * -1 when it could not start or ran too long (then stopped). */
static int
run_quiet(char *const *argv, const char *log, int ms)
{
	int status;
	pid_t pid;

	if ((pid = bn_proc_spawn(argv, NULL, "/dev/null", log, log)) < 0)
		return -1;
	if (bn_proc_wait(pid, ms, &status) != 0) {
		bn_proc_stop(pid, 10000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * The Debian package may start its own mosquitto (port 1883) as a
 * service.  The binary was missing, so whatever service runs now is the
 * one our install started: stop it, and keep it from starting at boot.
 */
static void
stop_packaged_service(const struct stream *s)
{
	char *stop[] = { "systemctl", "stop", "mosquitto.service", NULL };
	char *off[] = { "systemctl", "disable", "mosquitto.service", NULL };
	char *sysv[] = { "service", "mosquitto", "stop", NULL };
	char log[360];

	snprintf(log, sizeof(log), "%s/service.log", s->s_dir);
	if (access("/run/systemd/system", F_OK) == 0) {
		run_quiet(stop, log, 60000);
		run_quiet(off, log, 60000);
		fprintf(stderr, "bench: B9c: stopped and disabled the "
		    "mosquitto service the package installed\n");
	} else if (access("/run/mosquitto/mosquitto.pid", F_OK) == 0) {
		run_quiet(sysv, log, 60000);
		fprintf(stderr, "bench: B9c: stopped the mosquitto service "
		    "the package started\n");
	}
}

/* Installs mosquitto and mosquitto-clients; false with why. */
static bool
install(struct stream *s, char *why, size_t len)
{
	char *inst[] = { "apt-get", "install", "-y", "-q", "mosquitto",
	    "mosquitto-clients", NULL };
	char *update[] = { "apt-get", "update", "-q", NULL };
	char log[360], last[256];
	int rv;

	if (geteuid() != 0) {
		snprintf(why, len, "not root: cannot apt-get install "
		    "mosquitto mosquitto-clients");
		return false;
	}
	fprintf(stderr, "bench: B9c: installing mosquitto "
	    "mosquitto-clients\n");
	snprintf(log, sizeof(log), "%s/apt.log", s->s_dir);
	setenv("DEBIAN_FRONTEND", "noninteractive", 0);
	if ((rv = run_quiet(inst, log, APT_MS)) != 0 &&
	    run_quiet(update, log, APT_MS) == 0)
		rv = run_quiet(inst, log, APT_MS);	/* lists were stale */
	stop_packaged_service(s);
	if (rv == 0 && have_mosquitto(s))
		return true;
	if (rv == 0) {
		snprintf(why, len, "installed, but no mosquitto and "
		    "mosquitto_pub in $PATH, /usr/sbin");
		return false;
	}
	last_line(log, last, sizeof(last));
	snprintf(why, len, "apt-get install failed (%d): %.120s", rv, last);
	return false;
}

/* A port nobody listens on now (the kernel's pick). */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool
port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	bool up;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return false;
	up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return up;
}

/* Starts our mosquitto and waits until it listens; false with why. */
static bool
start_mosquitto(struct stream *s, char *why, size_t len)
{
	char conf[360], log[360];
	char *argv[] = { s->s_mosq, "-c", conf, NULL };
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", s->s_dir);
	snprintf(log, sizeof(log), "%s/mosquitto.log", s->s_dir);
	if ((s->s_port = free_port()) < 0 || (f = fopen(conf, "w")) == NULL)
		bn_die("B9c: cannot write %s: %s", conf, strerror(errno));
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n"
	    "persistence false\n", s->s_port);
	if (fclose(f) != 0)
		bn_die("B9c: cannot write %s: %s", conf, strerror(errno));
	if ((s->s_mosq_pid = bn_proc_spawn(argv, NULL, "/dev/null", log,
	    log)) < 0)
		bn_die("B9c: cannot start %s: %s", s->s_mosq, strerror(errno));
	for (int i = 0; i < 500; i++) {
		if (port_open(s->s_port))
			return true;
		if (bn_proc_wait(s->s_mosq_pid, 0, NULL) == 0)
			break;
		usleep(10000);
	}
	last_line(log, conf, sizeof(conf));
	snprintf(why, len, "mosquitto did not start: %.150s", conf);
	bn_proc_stop(s->s_mosq_pid, 2000);
	s->s_mosq_pid = 0;
	return false;
}

/* ---- the rows ---------------------------------------------------------- */

static void
measured(const struct run *u, uint32_t n, char *buf, size_t len)
{
	double rate = u->u_secs > 0 ? (double)u->u_done / u->u_secs : 0;
	char st[32];

	if (u->u_capped)
		snprintf(buf, len, "%.0f msg/s, %llu/%u in %.0f s (cap)",
		    rate, (unsigned long long)u->u_done, n, u->u_secs);
	else if (u->u_done != n || u->u_status != 0)
		snprintf(buf, len, "FAILED (%s): %llu of %u",
		    bn_proc_status(u->u_status, st, sizeof(st)),
		    (unsigned long long)u->u_done, n);
	else
		snprintf(buf, len, "%.0f msg/s (%.2f s)", rate, u->u_secs);
}

static double
rate_of(const struct run *u)
{
	return u->u_secs > 0 ? (double)u->u_done / u->u_secs : 0;
}

static void
rows(struct stream *s, const struct run *t, const struct run *q1,
    const struct run *q0, const char *why)
{
	char what[64], m[96], q[160];

	snprintf(what, sizeof(what), "`troupe send sink -`, %u lines of %d B",
	    s->s_n, LINE_BYTES);
	measured(t, s->s_n, m, sizeof(m));
	if (why == NULL && rate_of(q1) > 0 && rate_of(q0) > 0)
		snprintf(q, sizeof(q), "%.2f x mosquitto_pub q1 (target >= 1, "
		    "goal 3); %.2f x q0", rate_of(t) / rate_of(q1),
		    rate_of(t) / rate_of(q0));
	else
		snprintf(q, sizeof(q), "no mosquitto_pub figure (target >= 1 "
		    "x q1, goal 3)");
	bn_out(s->s_r, ROW, "B9c", what, m, q);
	if (why != NULL) {
		bn_out(s->s_r, ROW, "B9c", "mosquitto_pub -l, same file",
		    "skipped", why);
		return;
	}
	measured(q1, s->s_n, m, sizeof(m));
	bn_out(s->s_r, ROW, "B9c", "mosquitto_pub -l -q 1, same file", m,
	    "(the unit of B9c; no subscriber)");
	measured(q0, s->s_n, m, sizeof(m));
	bn_out(s->s_r, ROW, "B9c", "mosquitto_pub -l -q 0, same file", m,
	    "(QoS 0: no acks)");
}

void
bn_case_b9c(struct bn_run *r, struct bn_broker *b)
{
	struct run t, q1, q0;
	struct stream s;
	char why[WHY_MAX];
	bool ok;

	memset(&s, 0, sizeof(s));
	memset(&q1, 0, sizeof(q1));
	memset(&q0, 0, sizeof(q0));
	s.s_r = r;
	s.s_n = bn_scale(r, 100000);
	snprintf(s.s_dir, sizeof(s.s_dir), "%s", b->br_dir);
	snprintf(s.s_lines, sizeof(s.s_lines), "%s/lines.jsonl", s.s_dir);
	write_lines(&s);
	ok = have_mosquitto(&s) || install(&s, why, sizeof(why));
	if (ok)
		ok = start_mosquitto(&s, why, sizeof(why));
	run_troupe(&s, b, &t);
	if (ok) {
		run_pub(&s, 1, &q1);
		run_pub(&s, 0, &q0);
		bn_proc_stop(s.s_mosq_pid, 5000);
	}
	rows(&s, &t, &q1, &q0, ok ? NULL : why);
}

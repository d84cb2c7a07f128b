/*
 * br_client — client links, broker side (see br_client.h).  Loop thread
 * only, except the gates' pipe callbacks (br_guard), which touch only
 * their own atomics and write a hint into the link-drop pipe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "br.h"
#include "br_acl.h"
#include "br_answer.h"
#include "br_client.h"
#include "br_guard.h"
#include "br_log.h"
#include "br_route.h"
#include "tp_link.h"
#include "tp_nng.h"

/* A client must dial and say hello within this long after asking. */
#define HELLO_GRACE_MS	10000
#define CLIENT_RECV_SLACK 64	/* frames beyond the window: controls */
#define NNG_RECVBUF_MAX	8192	/* nng's own limit for NNG_OPT_RECVBUF */
/* One client's burst must not starve the others (level-triggered fd). */
#define RECV_BUDGET	256
#define SLOT_BITS	16
#define GEN_MASK	0x3fffu

struct br_client {
	struct br	*c_br;
	uint32_t	 c_idx;
	uint32_t	 c_gen;
	bool		 c_used;
	bool		 c_ready;	/* hello came: credits granted */
	bool		 c_dirty;
	bool		 c_doomed;	/* lost an answer: closed at flush */
	struct br_client *c_dirty_next;
	pid_t		 c_pid;		/* who asked for the link */
	uint32_t	 c_avail;	/* credit the client may still spend */
	uint64_t	 c_opened_ms;
	uint64_t	 c_run_first;	/* ACKs not sent yet: ids first.. */
	uint32_t	 c_run_n;	/* ..first + n - 1 */
	char		 c_name[32];	/* "cli-SEQ": its `from` */
	char		 c_url[BR_PATH_MAX + 32];
	nng_socket	 c_sock;
	int		 c_fd;
	struct br_loop_ev *c_ev;
	struct tp_link	*c_link;
	struct br_gate	*c_gate;
};

struct br_clients {
	struct br_client *cs_slot;
	uint32_t	 cs_max;
	uint32_t	 cs_open;
	uint32_t	 cs_seq;
	struct br_client *cs_dirty;
	int		 cs_drop_rfd;	/* gates write (slot, pipe) here */
	int		 cs_drop_wfd;
	struct br_loop_ev *cs_drop_ev;
};

static uint32_t
origin_of(const struct br_client *c)
{
	return BR_ORIGIN_CLIENT | (c->c_gen & GEN_MASK) << SLOT_BITS |
	    c->c_idx;
}

/* The live client an origin names, or NULL when it has gone. */
static struct br_client *
client_of(struct br *br, uint32_t origin)
{
	struct br_clients *cs = br->b_clients;
	uint32_t idx = origin & ((1u << SLOT_BITS) - 1);
	struct br_client *c;

	if (cs == NULL || !BR_IS_CLIENT(origin) || idx >= cs->cs_max)
		return NULL;
	c = &cs->cs_slot[idx];
	if (!c->c_used || !c->c_ready || c->c_doomed ||
	    origin_of(c) != origin)
		return NULL;
	return c;
}

static void
mark_dirty(struct br_client *c)
{
	struct br_clients *cs = c->c_br->b_clients;

	if (c->c_dirty)
		return;
	c->c_dirty = true;
	c->c_dirty_next = cs->cs_dirty;
	cs->cs_dirty = c;
}

/* The run of ACKs for consecutive ids leaves as one envelope: corr =
 * the id when it is one, else corr 0 and body [first, count]. */
static int
put_run(struct br_client *c)
{
	uint8_t body[24];
	struct tp_fixbuf fb = { body, sizeof(body), 0 };
	struct tp_env env = { .e_kind = TP_K_ACK,
	    .e_id = br_next_id(c->c_br) };
	msgpack_packer pk;
	int rv;

	if (c->c_run_n == 0)
		return 0;
	env.e_from = tp_slice_str(c->c_br->b_node);
	env.e_to = tp_slice_str(c->c_name);
	if (c->c_run_n == 1)
		env.e_corr = c->c_run_first;
	else {
		msgpack_packer_init(&pk, &fb, tp_fixbuf_write);
		if (msgpack_pack_array(&pk, 2) != 0 ||
		    msgpack_pack_uint64(&pk, c->c_run_first) != 0 ||
		    msgpack_pack_uint32(&pk, c->c_run_n) != 0)
			return TP_ENOMEM;	/* 24 bytes hold it: never */
		env.e_body = body;
		env.e_body_len = fb.fb_len;
	}
	if ((rv = tp_link_put(c->c_link, &env, 0)) == 0)
		c->c_run_n = 0;
	return rv;
}

/* A client that does not read its answers (its socket and the ring
 * full) would lose one silently: its link is closed instead (at the
 * next flush, outside any receive), so it learns that every result it
 * still waits for is unknown. */
static void
lost(struct br_client *c, const struct tp_env *env, int rv)
{
	log_warn("client link closed: an answer could not be sent",
	    "client=%s pid=%ld kind=%s error=\"%s\"", c->c_name,
	    (long)c->c_pid, tp_kind_name(env->e_kind), rv == TP_LINK_FULL ?
	    "link full: the client does not read" : tp_strerror(rv));
	c->c_doomed = true;
	mark_dirty(c);
}

/* Answers join the next frame; a plain ACK joins the run. */
static int
answer_send(void *arg, const struct br_origin *o, const struct tp_env *env)
{
	struct br_client *c = client_of(arg, o->o_actor);
	struct tp_env e;
	int rv;

	if (c == NULL)
		return -1;	/* gone: nobody to tell */
	mark_dirty(c);
	if (env->e_kind == TP_K_ACK && env->e_body_len == 0 &&
	    env->e_corr != 0) {
		if (c->c_run_n > 0 && c->c_run_n < UINT32_MAX &&
		    env->e_corr == c->c_run_first + c->c_run_n) {
			c->c_run_n++;
			return 0;
		}
		if ((rv = put_run(c)) != 0)
			goto out_lost;
		c->c_run_first = env->e_corr;
		c->c_run_n = 1;
		return 0;
	}
	e = *env;
	e.e_to = tp_slice_str(c->c_name);
	if ((rv = put_run(c)) == 0 && (rv = tp_link_put(c->c_link, &e,
	    0)) == 0)
		return 0;
out_lost:
	lost(c, env, rv);
	return -1;
}

static void
answer_credit(void *arg, const struct br_origin *o)
{
	struct br_client *c = client_of(arg, o->o_actor);

	if (c == NULL)
		return;
	c->c_avail++;
	tp_link_credit_owe(c->c_link, 1);
}

static const char *
answer_name(void *arg, const struct br_origin *o)
{
	struct br_client *c = client_of(arg, o->o_actor);

	return c != NULL ? c->c_name : "cli";
}

static const struct br_answer_ops answer_ops = { answer_send,
    answer_credit, answer_name };

/* ---- the link ---- */

static int
cl_admit(void *arg, struct tp_link *lk, nng_msg *msg,
    struct tp_link **target, struct tp_err *err)
{
	struct br_client *c = arg;

	return br_gate_admits(c->c_gate, msg) ? 0 : TP_LINK_DROP;
}

static void
cl_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	struct br_client *c = arg;

	c->c_br->b_stats.st_bad_frames++;
	log_warn("bad frame from client", "client=%s pid=%ld error=\"%s\"",
	    c->c_name, (long)c->c_pid, err->e_msg);
}

/* The first CONTROL is the hello that opens the window; a later one is
 * a bye, answered with its own body so the client knows all before it
 * was read. */
static void
cl_control(struct br_client *c, const struct tp_env *env)
{
	struct tp_env ans = { .e_kind = TP_K_CONTROL, .e_body = env->e_body,
	    .e_body_len = env->e_body_len };

	if (!c->c_ready) {
		c->c_ready = true;
		c->c_avail = c->c_br->b_conf->c_client_window;
		tp_link_credit_owe(c->c_link, c->c_avail);
		log_debug("client ready", "client=%s pid=%ld", c->c_name,
		    (long)c->c_pid);
		return;
	}
	ans.e_from = tp_slice_str(c->c_br->b_node);
	ans.e_to = tp_slice_str(c->c_name);
	ans.e_id = br_next_id(c->c_br);
	if (put_run(c) != 0 || tp_link_put(c->c_link, &ans, 0) != 0)
		log_debug("bye not answered", "client=%s", c->c_name);
}

/* A SEND or ASK within the window goes to routing; every SEND of a
 * client is a confirmed one. */
static void
cl_request(struct br_client *c, const struct tp_env *env)
{
	struct br *br = c->c_br;
	struct br_origin o = { origin_of(c), NULL, 0 };
	struct tp_env e = *env;

	if (c->c_avail == 0) {
		br->b_stats.st_busy++;
		br_answer_error(br, &o, env->e_id, BR_E_BUSY, "client sent "
		    "beyond its window of %u", br->b_conf->c_client_window);
		return;
	}
	c->c_avail--;
	if (e.e_kind == TP_K_SEND)
		e.e_flags |= TP_F_CONFIRM;
	br_route_env(br, &o, &e);
}

static int
cl_env(void *arg, const struct tp_env *env)
{
	struct br_client *c = arg;

	if (env->e_kind == TP_K_CONTROL) {
		cl_control(c, env);
		return 0;
	}
	if (c->c_ready && (env->e_kind == TP_K_SEND ||
	    env->e_kind == TP_K_ASK)) {
		cl_request(c, env);
		return 0;
	}
	log_warn("unexpected kind from client", "client=%s pid=%ld kind=%s",
	    c->c_name, (long)c->c_pid, tp_kind_name(env->e_kind));
	c->c_br->b_stats.st_bad_frames++;
	return 0;
}

static void
cl_dirty(void *arg)
{
	mark_dirty(arg);
}

/* A client never sends CREDIT (lo_credit unset: one is an unexpected
 * kind, counted). */
static const struct tp_link_ops client_link_ops = {
	.lo_name = "client",
	.lo_admit = cl_admit,
	.lo_env = cl_env,
	.lo_bad = cl_bad,
	.lo_dirty = cl_dirty,
};

static void
on_client(void *arg)
{
	struct br_client *c = arg;

	tp_link_recv(c->c_link, RECV_BUDGET);
}

/* The slot is free again: its socket closed, its link emptied, its
 * generation moved on (answers still on their way find nobody). */
static void
close_client(struct br_client *c, const char *why)
{
	struct br_clients *cs = c->c_br->b_clients;

	if (!c->c_used)
		return;
	log_debug("client closed", "client=%s pid=%ld why=%s", c->c_name,
	    (long)c->c_pid, why);
	if (c->c_ev != NULL)
		br_loop_del(&c->c_br->b_loop, c->c_ev);
	br_gate_expect(c->c_gate, 0);
	nng_close(c->c_sock);
	tp_link_reset(c->c_link);
	unlink(c->c_url + 6);
	c->c_ev = NULL;
	c->c_fd = -1;
	c->c_used = false;
	c->c_ready = false;
	c->c_doomed = false;
	c->c_run_n = 0;
	c->c_gen++;
	cs->cs_open--;
}

/* A client's pipe went: the slot is freed.  What it left in the socket
 * unread was never confirmed, so it is not read: nng 1.5.2 runs the
 * removal hook in the middle of the pipe's teardown, and a pair1 receive
 * that resumes the pipe meanwhile (its queue was full) can leave the
 * teardown waiting forever and nng_close with it (seen: a client killed
 * while flooding).  A client that closes cleanly has waited for every
 * result first. */
static void
on_drop(void *arg)
{
	struct br *br = arg;
	struct br_clients *cs = br->b_clients;
	uint32_t ev[64][2];
	ssize_t n;

	while ((n = read(cs->cs_drop_rfd, ev, sizeof(ev))) > 0)
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			struct br_client *c;

			if (ev[i][0] >= cs->cs_max)
				continue;
			c = &cs->cs_slot[ev[i][0]];
			if (!c->c_used || br_gate_pipe(c->c_gate) != ev[i][1])
				continue;	/* an older instance's pipe */
			close_client(c, "pipe closed");
		}
}

/* RUN/cli gets the run dir's mode and group, so that whoever may reach
 * ctl.sock may reach its client socket. */
static int
make_cli_dir(struct br *br, char *dir, size_t len)
{
	struct stat st;

	snprintf(dir, len, "%s/cli", br->b_run_dir);
	if (stat(br->b_run_dir, &st) != 0 || (mkdir(dir, 0700) != 0 &&
	    errno != EEXIST) || chmod(dir, st.st_mode & 0777) != 0 ||
	    chown(dir, (uid_t)-1, st.st_gid) != 0) {
		log_error("cannot create the client dir", "path=%s error=\"%s\"",
		    dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
br_clients_init(struct br *br)
{
	struct br_clients *cs;
	char dir[BR_PATH_MAX + 8];
	int fds[2];

	if (make_cli_dir(br, dir, sizeof(dir)) != 0 ||
	    (cs = calloc(1, sizeof(*cs))) == NULL)
		return -1;
	br->b_clients = cs;
	cs->cs_max = br->b_conf->c_max_clients;
	cs->cs_drop_rfd = cs->cs_drop_wfd = -1;
	if ((cs->cs_slot = calloc(cs->cs_max, sizeof(*cs->cs_slot))) == NULL ||
	    pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	cs->cs_drop_rfd = fds[0];
	cs->cs_drop_wfd = fds[1];
	for (uint32_t i = 0; i < cs->cs_max; i++) {
		cs->cs_slot[i].c_br = br;
		cs->cs_slot[i].c_idx = i;
		cs->cs_slot[i].c_fd = -1;
	}
	br_answer_set_ops(BR_OC_CLIENT, &answer_ops, br);
	return br_loop_add(&br->b_loop, fds[0], on_drop, br,
	    &cs->cs_drop_ev);
}

void
br_clients_fini(struct br *br)
{
	struct br_clients *cs = br->b_clients;

	if (cs == NULL)
		return;
	for (uint32_t i = 0; cs->cs_slot != NULL && i < cs->cs_max; i++) {
		close_client(&cs->cs_slot[i], "broker stops");
		tp_link_free(cs->cs_slot[i].c_link);
		br_gate_free(cs->cs_slot[i].c_gate);	/* socket closed */
	}
	if (cs->cs_drop_ev != NULL)
		br_loop_del(&br->b_loop, cs->cs_drop_ev);
	if (cs->cs_drop_rfd >= 0) {
		close(cs->cs_drop_rfd);
		close(cs->cs_drop_wfd);
	}
	free(cs->cs_slot);
	free(cs);
	br->b_clients = NULL;
}

static struct br_client *
free_slot(struct br_clients *cs)
{
	for (uint32_t i = 0; i < cs->cs_max; i++)
		if (!cs->cs_slot[i].c_used)
			return &cs->cs_slot[i];
	return NULL;
}

/* The slot's gate and link exist once; each client gets a new socket. */
static int
slot_parts(struct br *br, struct br_client *c)
{
	struct br_clients *cs = br->b_clients;
	struct tp_link_conf lc = { .lc_lim = &br->b_lim, .lc_skim = true,
	    .lc_cache = &br->b_fcache,
	    .lc_max_bytes = br->b_lim.l_max_frame / 2 };

	if (c->c_gate == NULL && (c->c_gate = br_gate_new(cs->cs_drop_wfd,
	    c->c_idx, BR_GS_CLIENT)) == NULL)
		return -1;
	if (c->c_link == NULL && (c->c_link = tp_link_new(c->c_sock,
	    &client_link_ops, c, &lc)) == NULL)
		return -1;
	tp_link_rebind(c->c_link, c->c_sock);
	return 0;
}

static int
open_socket(struct br *br, struct br_client *c, struct tp_err *err)
{
	struct tp_sockopts o = tp_sockopts_default;

	o.o_max_frame = br->b_lim.l_max_frame;
	o.o_sendbuf = 64;
	/*
	 * Room for every frame a client may have out (its window, one
	 * message a frame at worst, and its controls): nng 1.5.2's pair1
	 * holds a frame that finds the queue full in the pipe's receive,
	 * and a pipe torn down in that state can leave nng's reaper waiting
	 * forever, and every later nng_close with it (gdb: pipe_destroy in
	 * nni_task_wait; a client killed while flooding).  Known limit: a
	 * client that floods frames past its window (each answered ERROR 8)
	 * faster than the loop reads them can still fill it.
	 */
	o.o_recvbuf = (int)(br->b_conf->c_client_window + CLIENT_RECV_SLACK >
	    NNG_RECVBUF_MAX ? NNG_RECVBUF_MAX : br->b_conf->c_client_window +
	    CLIENT_RECV_SLACK);
	snprintf(c->c_url, sizeof(c->c_url), "ipc://%s/cli/%u.sock",
	    br->b_run_dir, c->c_idx);
	unlink(c->c_url + 6);
	if (tp_sock_open(&c->c_sock, TP_PAIR, &o, err) != 0)
		return -1;
	if (slot_parts(br, c) != 0 || br_gate_attach(c->c_gate,
	    c->c_sock) != 0) {
		snprintf(err->e_msg, sizeof(err->e_msg), "out of memory");
		goto out_close;
	}
	br_gate_expect(c->c_gate, c->c_pid);
	if (tp_listen(c->c_sock, c->c_url, br_acl_sock_mode(&br->b_acl),
	    err) != 0 || br_acl_sock_ready(&br->b_acl, c->c_url + 6) != 0 ||
	    tp_recv_fd(c->c_sock, &c->c_fd, err) != 0)
		goto out_close;
	if (br_loop_add(&br->b_loop, c->c_fd, on_client, c, &c->c_ev) == 0)
		return 0;
	snprintf(err->e_msg, sizeof(err->e_msg), "event loop");
out_close:
	nng_close(c->c_sock);
	unlink(c->c_url + 6);
	c->c_fd = -1;
	return -1;
}

static void
pack_answer(struct br *br, const struct br_client *c, msgpack_packer *pk)
{
	static const char *const k[] = { "url", "name", "node", "window",
	    "max_body" };

	msgpack_pack_map(pk, 5);
	msgpack_pack_str_with_body(pk, k[0], strlen(k[0]));
	msgpack_pack_str_with_body(pk, c->c_url, strlen(c->c_url));
	msgpack_pack_str_with_body(pk, k[1], strlen(k[1]));
	msgpack_pack_str_with_body(pk, c->c_name, strlen(c->c_name));
	msgpack_pack_str_with_body(pk, k[2], strlen(k[2]));
	msgpack_pack_str_with_body(pk, br->b_node, strlen(br->b_node));
	msgpack_pack_str_with_body(pk, k[3], strlen(k[3]));
	msgpack_pack_uint32(pk, br->b_conf->c_client_window);
	msgpack_pack_str_with_body(pk, k[4], strlen(k[4]));
	msgpack_pack_uint64(pk, br->b_conf->c_max_body);
}

int
br_client_open(struct br *br, nng_pipe pipe, msgpack_packer *pk,
    char *msg, size_t len)
{
	struct br_clients *cs = br->b_clients;
	struct tp_err err = { 0 };
	struct br_client *c;
	uint64_t pid = 0;

	if (br->b_stopping)
		return snprintf(msg, len, "broker '%s' is shutting down",
		    br->b_node), BR_E_SHUTDOWN;
	if (nng_pipe_get_uint64(pipe, NNG_OPT_IPC_PEER_PID, &pid) != 0 ||
	    pid == 0 || pid > INT32_MAX)
		return snprintf(msg, len, "client: the peer's pid is unknown"),
		    BR_E_BADREQ;
	if ((c = free_slot(cs)) == NULL) {
		br->b_stats.st_busy++;
		return snprintf(msg, len, "broker busy: all %u client links "
		    "in use (node.max_clients)", cs->cs_max), BR_E_BUSY;
	}
	c->c_pid = (pid_t)pid;
	if (open_socket(br, c, &err) != 0) {
		log_error("cannot open a client link", "error=\"%s\"",
		    err.e_msg);
		return snprintf(msg, len, "cannot open a client link: %.80s",
		    err.e_msg), BR_E_BUSY;
	}
	c->c_used = true;
	c->c_ready = false;
	c->c_avail = 0;
	c->c_run_n = 0;
	c->c_opened_ms = br_now_ms();
	snprintf(c->c_name, sizeof(c->c_name), "cli-%u", ++cs->cs_seq);
	cs->cs_open++;
	br->b_stats.st_clients++;
	pack_answer(br, c, pk);
	log_debug("client link opened", "client=%s pid=%ld url=%s",
	    c->c_name, (long)c->c_pid, c->c_url);
	return 0;
}

/* Credit alone waits for company until half the window is owed: an
 * ask's credit comes back with its reply (one frame, one wake-up of the
 * client instead of two), and a client that is out of credit has more
 * than half its window still unplaced, whose placing owes the rest. */
static bool
lone_credit(const struct br_client *c)
{
	return c->c_run_n == 0 && tp_link_pending(c->c_link) == 0 &&
	    tp_link_credit_due(c->c_link) < c->c_br->b_conf->c_client_window /
	    2;
}

void
br_clients_flush(struct br *br)
{
	struct br_clients *cs = br->b_clients;
	struct br_client *c, *next;
	int rv;

	if (cs == NULL)
		return;
	next = cs->cs_dirty;
	cs->cs_dirty = NULL;
	while ((c = next) != NULL) {
		next = c->c_dirty_next;
		c->c_dirty = false;
		if (c->c_used && c->c_doomed)
			close_client(c, "answers not read");
		if (!c->c_used || lone_credit(c))
			continue;
		if ((rv = put_run(c)) == 0)
			rv = tp_link_flush(c->c_link);
		if (rv == TP_LINK_FULL)
			mark_dirty(c);	/* the client reads slowly */
		else if (rv < 0)
			log_warn("client link flush failed", "client=%s "
			    "error=\"%s\"", c->c_name, tp_strerror(rv));
	}
}

void
br_clients_tick(struct br *br, uint64_t now)
{
	struct br_clients *cs = br->b_clients;

	for (uint32_t i = 0; cs != NULL && i < cs->cs_max; i++) {
		struct br_client *c = &cs->cs_slot[i];

		if (c->c_used && !c->c_ready &&
		    now - c->c_opened_ms > HELLO_GRACE_MS)
			close_client(c, "no hello");
	}
}

uint32_t
br_clients_count(const struct br *br)
{
	return br->b_clients != NULL ? br->b_clients->cs_open : 0;
}

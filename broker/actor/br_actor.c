/*
 * br_actor — the actor table: name index, mailbox sockets,
 * exits and windowed delivery.  Loop thread only.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "br.h"
#include "br_actor_int.h"
#include "br_answer.h"
#include "br_durable.h"
#include "br_guard.h"
#include "br_log.h"
#include "tp_link.h"
#include "tp_nng.h"

#define HOLD_FRACTION 8		/* see hold_back */

/* Who hears of frames, exits and link drops (br_actors_set_ops). */
static const struct br_actor_ops *ops;
static void *ops_arg;

void
br_actors_set_ops(struct br *br, const struct br_actor_ops *o, void *arg)
{
	ops = o;
	ops_arg = arg;
}

const char *
br_astate_name(enum br_astate st)
{
	static const char *names[] = { "stopped", "starting", "running",
	    "backoff", "failed", "stopping", "restarting" };

	return names[st];
}

static uint32_t
name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/*
 * The write end of the link-drop pipe.  Each actor's gate (br_guard)
 * writes (actor index, pipe id) into it from an nng thread when the
 * admitted pipe goes; the loop reads it in on_link.  Set before the
 * first mailbox opens and closed after the last one is closed.
 */
static int link_wfd = -1;

static void
on_link(void *arg)
{
	struct br *br = arg;
	uint32_t ev[64][2];
	ssize_t n;

	while ((n = read(br->b_link_fd, ev, sizeof(ev))) > 0)
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++)
			if (ev[i][0] < br->b_nactors && ops != NULL)
				ops->ao_link_down(ops_arg,
				    br->b_actors[ev[i][0]]);
}

static int
link_pipe_open(struct br *br)
{
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	br->b_link_fd = fds[0];
	link_wfd = fds[1];
	return br_loop_add(&br->b_loop, fds[0], on_link, br, NULL);
}

int
br_actor_ready(struct br_actor *a)
{
	if (a->a_state != BR_A_STARTING)
		return -1;
	a->a_state = BR_A_RUNNING;
	br_actor_owe_credit(a, a->a_br->b_conf->c_send_window);
	log_debug("actor ready", "actor=%s", a->a_conf.ca_name);
	if (a->a_pool != NULL) {
		br_actor_pool_state(a->a_pool);
		br_actor_pool_fill(a->a_pool);
	}
	return 0;
}

uint32_t
br_actor_acked(struct br_actor *a, uint32_t n)
{
	struct br_actor *h = br_actor_home(a);
	uint32_t done;

	/* a pool's log is its head's; the records are the instance's */
	br_dur_acked_from(h->a_dur, mbx_inflight_head(&a->a_mbx), n);
	done = mbx_ack(&a->a_mbx, n);
	br_actor_mark_dirty(a);
	if (h != a)
		br_actor_pool_fill(h);
	return done;
}

/* Actors as origins: answers join the next frame, credits too. */
static int
answer_send(void *arg, const struct br_origin *o, const struct tp_env *env)
{
	struct br *br = arg;
	struct br_actor *a = br->b_actors[o->o_actor];
	struct tp_env e = *env;

	if (a->a_state != BR_A_RUNNING)
		return -1;	/* its next instance never asked */
	e.e_to = tp_slice_str(a->a_conf.ca_name);
	return br_actor_answer(a, &e);
}

static void
answer_credit(void *arg, const struct br_origin *o)
{
	struct br *br = arg;
	struct br_actor *s = br->b_actors[o->o_actor];

	br_actor_owe_credit(s, 1);
}

static const struct br_answer_ops answer_ops = { answer_send,
    answer_credit, NULL };

int
br_actors_init(struct br *br)
{
	uint32_t n = 1;

	while (n < 2 * BR_MAX_ACTORS)
		n <<= 1;
	br->b_link_fd = -1;
	br->b_names = calloc(n, sizeof(*br->b_names));
	br->b_actors = calloc(BR_MAX_ACTORS, sizeof(*br->b_actors));
	if (br->b_names == NULL || br->b_actors == NULL)
		return -1;
	br->b_names_mask = n - 1;
	br_answer_set_ops(BR_OC_ACTOR, &answer_ops, br);
	return link_pipe_open(br);
}

struct br_actor *
br_actor_find(struct br *br, const char *name, size_t len)
{
	struct br_actor *a = br_actor_lookup(br, name, len);

	return a != NULL && !a->a_removed ? a : NULL;
}

struct br_actor *
br_actor_lookup(struct br *br, const char *name, size_t len)
{
	uint32_t i = name_hash(name, len) & br->b_names_mask;
	struct br_actor *a;

	while ((a = br->b_names[i]) != NULL) {
		if (a->a_name_len == len &&
		    memcmp(a->a_conf.ca_name, name, len) == 0)
			return a;
		i = (i + 1) & br->b_names_mask;
	}
	return NULL;
}

static void
index_name(struct br *br, struct br_actor *a)
{
	const char *n = a->a_conf.ca_name;
	uint32_t i = name_hash(n, strlen(n)) & br->b_names_mask;

	while (br->b_names[i] != NULL)
		i = (i + 1) & br->b_names_mask;
	br->b_names[i] = a;
}

/* Frame msg came on the pipe a's gate admitted (the spawned pid, checked
 * at ADD_PRE): 0, or -1 after closing the pipe, logging and counting. */
static int
admitted_pipe(struct br_actor *a, nng_msg *msg)
{
	nng_pipe p = nng_msg_get_pipe(msg);

	/* The gate admitted this pipe at ADD_PRE for the spawned pid; any
	 * other pipe can only be one that raced a restart. */
	if (br_gate_admits(a->a_gate, msg))
		return 0;
	log_warn("mailbox refused: pipe is not the admitted actor's",
	    "actor=%s pipe=%u actor_pid=%ld", a->a_conf.ca_name,
	    (unsigned)nng_pipe_id(p), (long)a->a_pid);
	return -1;
}

/* A budget keeps one chatty actor from starving the others; the
 * level-triggered fd brings us back for the rest. */
#define RECV_BUDGET	256

static void
on_mailbox(void *arg)
{
	struct br_actor *a = arg;

	tp_link_recv(a->a_link, RECV_BUDGET);
}

/* Only frames on the pipe the gate admitted (the spawned pid). */
static int
mbx_admit(void *arg, struct tp_link *lk, nng_msg *msg,
    struct tp_link **target, struct tp_err *err)
{
	return admitted_pipe(arg, msg) == 0 ? 0 : TP_LINK_DROP;
}

static void
mbx_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	struct br_actor *a = arg;

	a->a_br->b_stats.st_bad_frames++;
	log_warn("bad frame from actor", "actor=%s error=\"%s\"",
	    a->a_conf.ca_name, err->e_msg);
}

/* Every envelope goes up through the table's ops (br_alink). */
static int
mbx_env(void *arg, const struct tp_env *env)
{
	ops->ao_env(ops_arg, arg, env);
	return 0;
}

static void
mbx_dirty(void *arg)
{
	br_actor_mark_dirty(arg);
}

/* The actor link, broker side: an actor never sends CREDIT (lo_credit
 * unset: one would be an unexpected kind, counted). */
static const struct tp_link_ops mbx_link_ops = {
	.lo_name = "mailbox",
	.lo_admit = mbx_admit,
	.lo_env = mbx_env,
	.lo_bad = mbx_bad,
	.lo_dirty = mbx_dirty,
};

/* The link over a's (re)opened mailbox socket: what was built for an
 * earlier instance is dropped.  Deliveries are bounded by the envelope
 * count and the in-flight window, bytes only by half a frame: a window
 * leaves as one frame, the actor wakes and ACKs once per window (bench
 * B1 at 1 KiB: a quarter faster than frames cut at 256 KiB). */
static int
link_bind(struct br *br, struct br_actor *a)
{
	struct tp_link_conf c = { .lc_lim = &br->b_lim, .lc_skim = true,
	    .lc_cache = &br->b_fcache,
	    .lc_max_bytes = br->b_lim.l_max_frame / 2 };

	if (a->a_link != NULL) {
		tp_link_rebind(a->a_link, a->a_sock);
		return 0;
	}
	a->a_link = tp_link_new(a->a_sock, &mbx_link_ops, a, &c);
	return a->a_link != NULL ? 0 : -1;
}

/* The mailbox socket listens before the actor starts, so that it can dial
 * at once; ipc permissions 0600: only our uid may connect, and the gate
 * admits only the pid we spawn. */
static int
open_mailbox(struct br *br, struct br_actor *a)
{
	struct tp_sockopts o = tp_sockopts_default;
	struct tp_err err = { 0 };

	o.o_max_frame = br->b_lim.l_max_frame;
	o.o_sendbuf = (int)a->a_conf.ca_inflight + 16;
	if (o.o_sendbuf > 8192)
		o.o_sendbuf = 8192;
	snprintf(a->a_url, sizeof(a->a_url), "ipc://%s/mbx/%s.sock",
	    br->b_run_dir, a->a_conf.ca_name);
	unlink(a->a_url + 6);
	if (tp_sock_open(&a->a_sock, TP_PAIR, &o, &err) != 0)
		goto out_log;
	if (br_gate_attach(a->a_gate, a->a_sock) != 0) {
		snprintf(err.e_msg, sizeof(err.e_msg), "pipe callbacks");
		goto out_close_sock;
	}
	if (tp_listen(a->a_sock, a->a_url, 0600, &err) != 0 ||
	    tp_recv_fd(a->a_sock, &a->a_fd, &err) != 0)
		goto out_close_sock;
	if (link_bind(br, a) != 0) {
		snprintf(err.e_msg, sizeof(err.e_msg), "out of memory");
		goto out_close_sock;
	}
	if (br_loop_add(&br->b_loop, a->a_fd, on_mailbox, a, &a->a_ev) == 0)
		return 0;
	snprintf(err.e_msg, sizeof(err.e_msg), "event loop");
out_close_sock:
	nng_close(a->a_sock);
	a->a_fd = -1;
out_log:
	log_error("cannot open mailbox", "actor=%s error=\"%s\"",
	    a->a_conf.ca_name, err.e_msg);
	return -1;
}

static void
close_mailbox(struct br_actor *a)
{
	if (a->a_fd < 0)
		return;
	br_loop_del(&a->a_br->b_loop, a->a_ev);
	tp_link_reset(a->a_link);	/* it was for this instance */
	nng_close(a->a_sock);
	a->a_fd = -1;
	a->a_ev = NULL;
	unlink(a->a_url + 6);
}

/* What an instance sends is from its pool: answers to it go to the pool. */
static void
set_from(struct br_actor *a, const struct br_actor *pool)
{
	const char *name = pool != NULL ? pool->a_conf.ca_name :
	    a->a_conf.ca_name;

	a->a_from_len = (uint32_t)snprintf(a->a_from, sizeof(a->a_from),
	    "%.*s@%.*s", BR_NAME_MAX, name, BR_NAME_MAX, a->a_br->b_node);
}

/* A head has a mailbox but no socket and no gate: nothing dials it. */
static int
slot_open(struct br *br, struct br_actor *a, const struct br_conf_actor *ca)
{
	bool head = ca->ca_instances > 0;

	if (head && (a->a_insts = calloc(BR_POOL_MAX,
	    sizeof(*a->a_insts))) == NULL)
		return -1;
	if (!head && (a->a_gate = br_gate_new(link_wfd, a->a_idx,
	    BR_GS_MAILBOX)) == NULL)
		return -1;
	if (mbx_init(&a->a_mbx, ca->ca_mailbox, ca->ca_mailbox_bytes,
	    ca->ca_overflow, ca->ca_inflight) != MBX_OK ||
	    br_dur_attach(br, &a->a_dur, ca, &a->a_mbx) != 0)
		return -1;
	return head ? 0 : open_mailbox(br, a);
}

struct br_actor *
br_actor_slot_new(struct br *br, const struct br_conf_actor *ca,
    struct br_actor *pool)
{
	struct br_actor *a;

	if (br->b_nactors >= BR_MAX_ACTORS ||
	    (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->a_br = br;
	a->a_idx = br->b_nactors;
	a->a_conf = *ca;
	a->a_pool = pool;
	a->a_name_len = (uint32_t)strnlen(ca->ca_name, BR_NAME_MAX);
	set_from(a, pool);
	a->a_fd = -1;
	if (slot_open(br, a, ca) != 0) {
		br_dur_detach(&a->a_dur);
		mbx_fini(&a->a_mbx);
		br_gate_free(a->a_gate);
		tp_link_free(a->a_link);
		free(a->a_insts);
		free(a);
		return NULL;
	}
	br->b_actors[br->b_nactors++] = a;
	if (pool == NULL)
		index_name(br, a);
	return a;
}

int
br_actor_add(struct br *br, const struct br_conf_actor *ca)
{
	struct br_actor *a = br_actor_slot_new(br, ca, NULL);

	if (a == NULL)
		return -1;
	if (ca->ca_instances > 0)
		return br_actor_pool_resize(a, ca->ca_instances);
	return 0;
}

static void
exit_reason(char *buf, size_t len, int status)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
}

/* The actor's last words (acks, sends) are still in the socket: take
 * them before the in-flight messages go back to the queue.  A pid that
 * is no actor's is a grandchild (we are subreaper) or, as PID 1, any
 * orphan: reaping it was all there was to do. */
void
br_actor_exited(struct br *br, pid_t pid, int status)
{
	struct br_actor *a = NULL;

	for (uint32_t i = 0; i < br->b_nactors && a == NULL; i++)
		if (br->b_actors[i]->a_pid == pid)
			a = br->b_actors[i];
	if (a == NULL)
		return;
	br->b_stats.st_exits++;
	if (a->a_fd >= 0) {
		on_mailbox(a);
		/* Deliveries still queued in the socket were meant for the
		 * dead instance: nng would hand them to the next one, whose
		 * ACKs would then pop the requeued copies unseen (lost).  A
		 * fresh socket drops them. */
		close_mailbox(a);
		if (open_mailbox(br, a) != 0)
			log_error("cannot reopen mailbox", "actor=%s",
			    a->a_conf.ca_name);
	}
	a->a_pid = 0;
	exit_reason(a->a_last_exit, sizeof(a->a_last_exit), status);
	if (a->a_pool != NULL)
		br_actor_pool_give_back(a);
	else
		mbx_requeue_inflight(&a->a_mbx);
	log_info("actor exited", "actor=%s pid=%ld reason=\"%s\"",
	    a->a_conf.ca_name, (long)pid, a->a_last_exit);
	if (ops != NULL)
		ops->ao_exited(ops_arg, a, status);
}

/* New work or room at a pool goes to its instances at once. */
void
br_actor_mark_dirty(struct br_actor *a)
{
	if (a->a_insts != NULL) {
		br_actor_pool_fill(a);
		return;
	}
	if (a->a_dirty)
		return;
	a->a_dirty = true;
	a->a_dirty_next = a->a_br->b_dirty;
	a->a_br->b_dirty = a;
}

int
br_actor_answer(struct br_actor *a, const struct tp_env *env)
{
	int rv;

	if ((rv = tp_link_put(a->a_link, env, 0)) == 0)
		return 0;
	log_warn("answer not sent", "actor=%s kind=%s error=\"%s\"",
	    a->a_conf.ca_name, tp_kind_name(env->e_kind),
	    rv == TP_LINK_FULL ? "link full" : tp_strerror(rv));
	return -1;
}

int
br_actor_answer_now(struct br_actor *a, const struct tp_env *env)
{
	if (br_actor_answer(a, env) != 0)
		return -1;
	return tp_link_flush(a->a_link) < 0 ? -1 : 0;
}

void
br_actor_owe_credit(struct br_actor *a, uint32_t n)
{
	if (a->a_state == BR_A_RUNNING)
		tp_link_credit_owe(a->a_link, n);
}

/*
 * Nagle's rule for deliveries: while the actor still works on messages it
 * was given (some in flight) and fewer than an eighth of its window wait,
 * they wait for its ACK (which marks it dirty again) instead of leaving
 * as a frame of a few.  An idle actor (nothing in flight) gets them at
 * once, so a message to an idle actor is never held, and a busy one
 * would only have queued them behind its work; answers and credit are
 * never held.  One fast sender to many actors (B4 fan-out) gives each a
 * frame of many instead of one per sender frame: per-frame costs were
 * what bound it.
 */
static bool
hold_back(const struct br_actor *a)
{
	uint32_t q = mbx_queued(&a->a_mbx);

	return q > 0 && mbx_inflight(&a->a_mbx) > 0 &&
	    q < a->a_conf.ca_inflight / HOLD_FRACTION;
}

/*
 * Deliverable items go into the link while the window and the link take
 * them (it batches them, behind the CREDIT and the answers already
 * there); then everything owed to the actor leaves, one frame when it
 * fits.  Items stay in flight in the mailbox: a frame the link holds for
 * a full socket is dropped with the link when the actor goes, and the
 * items come back to the queue.
 */
static int
deliver(struct br_actor *a)
{
	const struct mbx_item *head;
	struct mbx_item *it;
	int rv;

	if (hold_back(a))
		return tp_link_flush(a->a_link);
	while ((head = mbx_peek(&a->a_mbx)) != NULL &&
	    tp_link_room(a->a_link, head->mi_len) &&
	    (it = mbx_next_delivery(&a->a_mbx)) != NULL)
		if ((rv = tp_link_put_raw(a->a_link, it->mi_data, it->mi_len,
		    0)) < 0)
			log_warn("delivery failed", "actor=%s error=\"%s\"",
			    a->a_conf.ca_name, tp_strerror(rv));
	return tp_link_flush(a->a_link);
}

/* The dirty list is taken whole: an actor whose link stays full goes on
 * the next one, flushed again on the next loop turn. */
void
br_actors_flush(struct br *br)
{
	struct br_actor *a, *next = br->b_dirty;
	int rv;

	br->b_dirty = NULL;
	while ((a = next) != NULL) {
		next = a->a_dirty_next;
		if (a->a_state != BR_A_RUNNING) {
			tp_link_reset(a->a_link);	/* nobody asked */
			a->a_dirty = false;
			continue;
		}
		/* a_dirty stays set while we fill the link: its own
		 * "dirty" calls are no news */
		rv = deliver(a);
		a->a_dirty = false;
		if (rv == TP_LINK_FULL)
			br_actor_mark_dirty(a);
		else if (rv < 0)
			log_warn("delivery failed", "actor=%s error=\"%s\"",
			    a->a_conf.ca_name, tp_strerror(rv));
	}
}

/* Start-up failed half way: nothing may outlive us, and SIGKILL cannot
 * be ignored, so the blocking waits are short. */
void
br_actors_kill_all(struct br *br)
{
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];

		if (a->a_pid <= 0)
			continue;
		kill(a->a_pid, SIGKILL);
		waitpid(a->a_pid, NULL, 0);
		a->a_pid = 0;
		a->a_state = BR_A_STOPPED;
	}
}

/* Waiting senders of a removed actor: an actor gets its credit back, a
 * confirmed SEND its ERROR (it was never placed), the items join the
 * list whose ASKs are answered. */
static struct mbx_item *
take_waiters(struct br_actor *a, struct mbx_item *list)
{
	struct br_wait *w;

	while ((w = br_wait_pop(&a->a_waitq)) != NULL) {
		struct br_origin o = { w->w_origin, NULL, 0 };

		if (w->w_hold != NULL) {	/* a topic copy: it is lost */
			mbx_item_free(w->w_item);
			br_wait_unhold(w->w_hold);
			free(w);
			continue;
		}
		if (w->w_origin != BR_ORIGIN_CLI && (w->w_flags &
		    TP_F_CONFIRM) && w->w_pend == 0)
			br_answer_error(a->a_br, &o, w->w_id,
			    BR_E_UNKNOWN_ACTOR, "actor '%s' was removed "
			    "before the message was placed",
			    a->a_conf.ca_name);
		if (w->w_origin != BR_ORIGIN_CLI)
			br_answer_credit(&o);
		w->w_item->mi_next = list;
		list = w->w_item;
		free(w);
	}
	return list;
}

void
br_actor_retire(struct br_actor *a)
{
	struct mbx_item *list;

	if (a->a_retired)
		return;
	a->a_retired = true;
	close_mailbox(a);
	if (a->a_pool != NULL) {	/* its messages are the pool's */
		br_actor_pool_give_back(a);
		a->a_state = BR_A_STOPPED;
		a->a_removed = true;
		log_info("pool instance removed", "actor=%s",
		    a->a_conf.ca_name);
		br_actor_pool_state(a->a_pool);
		return;
	}
	list = take_waiters(a, mbx_take_all(&a->a_mbx));
	ops->ao_dropped(ops_arg, list);
	br_dur_detach(&a->a_dur);	/* its records come back if it is revived */
	a->a_state = BR_A_STOPPED;
	a->a_removed = true;
	log_info("actor removed", "actor=%s", a->a_conf.ca_name);
}

void
br_actor_set_state(struct br_actor *a, enum br_astate st)
{
	a->a_state = st;
	if (a->a_pool != NULL)
		br_actor_pool_state(a->a_pool);
}

void
br_actor_mark_removed(struct br_actor *a)
{
	a->a_removed = true;
}

int
br_actor_reconf(struct br_actor *a, const struct br_conf_actor *ca)
{
	a->a_conf = *ca;
	mbx_set_limits(&a->a_mbx, ca->ca_mailbox, ca->ca_mailbox_bytes,
	    ca->ca_overflow, ca->ca_inflight);
	if (br_dur_attach(a->a_br, &a->a_dur, ca, &a->a_mbx) != 0)
		return -1;
	return a->a_insts != NULL ? br_actor_pool_reconf(a) : 0;
}

int
br_actor_revive(struct br_actor *a, const struct br_conf_actor *ca)
{
	struct mbx_stats keep;

	a->a_conf = *ca;
	a->a_removed = false;
	a->a_retired = false;
	if (a->a_fd >= 0 || a->a_insts != NULL)	/* removed, re-added
						 * before it was gone; or a
						 * pool: no socket */
		return mbx_set_limits(&a->a_mbx, ca->ca_mailbox,
		    ca->ca_mailbox_bytes, ca->ca_overflow, ca->ca_inflight) ||
		    br_dur_attach(a->a_br, &a->a_dur, ca, &a->a_mbx);
	keep = *mbx_stats(&a->a_mbx);	/* its counters go on */
	if (mbx_init(&a->a_mbx, ca->ca_mailbox, ca->ca_mailbox_bytes,
	    ca->ca_overflow, ca->ca_inflight) != MBX_OK ||
	    br_dur_attach(a->a_br, &a->a_dur, ca, &a->a_mbx) != 0 ||
	    open_mailbox(a->a_br, a) != 0) {
		a->a_removed = true;
		return -1;
	}
	a->a_mbx.mb_stats = keep;
	return 0;
}

void
br_actors_fini(struct br *br)
{
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];

		if (a->a_fd >= 0)
			nng_close(a->a_sock);
		a->a_fd = -1;
		br_wait_clear(&a->a_waitq);
		br_dur_close(&a->a_dur);	/* synced: queued records stay */
		tp_link_free(a->a_link);
		mbx_fini(&a->a_mbx);
		if (!a->a_removed && a->a_url[0] != '\0')
			unlink(a->a_url + 6);
		br_gate_free(a->a_gate);	/* its socket is closed */
		free(a->a_insts);
		free(a);
	}
	free(br->b_actors);
	free(br->b_names);
	mbx_item_pool_drain();
	/* every socket is closed: no nng thread writes any more */
	if (link_wfd >= 0)
		close(link_wfd);
	if (br->b_link_fd >= 0)
		close(br->b_link_fd);
	link_wfd = br->b_link_fd = -1;
}

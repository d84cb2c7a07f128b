/*
 * br_durable — durable mailboxes: an actor's log, its recovery, and the
 * senders waiting for the group commit (see br_durable.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "br.h"
#include "br_kv.h"
#include "br_dlog.h"
#include "br_durable.h"
#include "br_log.h"

/* Envelope fields around the body: names, ids, flags (tp_env_pack). */
#define DUR_ENV_OVERHEAD 4096

/* A sender to confirm once its record's seq is durable. */
struct dwait {
	uint64_t	 dw_seq;
	uint64_t	 dw_pend;
	uint64_t	 dw_id;
	uint32_t	 dw_origin;
	uint32_t	 dw_flags;
};

/* One durable actor: its log and the FIFO of senders waiting for the
 * disk (seqs only grow, so the FIFO is in seq order). */
struct br_dactor {
	struct br	*d_br;
	struct br_dactor *d_next;	/* br_dur's open logs */
	char		 d_name[BR_NAME_MAX];
	struct mbx	*d_mbx;		/* the actor's mailbox (borrowed) */
	struct dlog	*d_log;
	struct dlog_report d_rep;
	struct dwait	*d_ring;
	size_t		 d_cap;
	size_t		 d_head;
	size_t		 d_len;
};

struct br_dur {
	char		 du_dir[BR_PATH_MAX];
	int		 du_timerfd;
	struct br_loop_ev *du_ev;
	bool		 du_armed;
	struct br_dactor *du_open;	/* every open log, for the commit */
};

static void on_commit(void *arg);

void
br_dur_default_dir(char *d, size_t n)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (geteuid() == 0)
		snprintf(d, n, "/var/lib/troupe");
	else if (xdg != NULL && xdg[0] == '/')
		snprintf(d, n, "%s/troupe", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(d, n, "%s/.local/state/troupe", home);
	else
		snprintf(d, n, "/tmp/troupe-state-%ld", (long)geteuid());
}

static void
resolve_dir(struct br *br, char *d, size_t n)
{
	if (br->b_conf->c_data_dir[0] != '\0')
		snprintf(d, n, "%s", br->b_conf->c_data_dir);
	else
		br_dur_default_dir(d, n);
}

int
br_dur_init(struct br *br)
{
	struct br_dur *du;

	if ((du = calloc(1, sizeof(*du))) == NULL)
		return -1;
	resolve_dir(br, du->du_dir, sizeof(du->du_dir));
	du->du_timerfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC);
	if (du->du_timerfd < 0 || br_loop_add(&br->b_loop, du->du_timerfd,
	    on_commit, br, &du->du_ev) != 0) {
		log_error("cannot create the group commit timer",
		    "error=\"%s\"", strerror(errno));
		if (du->du_timerfd >= 0)
			close(du->du_timerfd);
		free(du);
		return -1;
	}
	br->b_dur = du;
	return 0;
}

void
br_dur_fini(struct br *br)
{
	struct br_dur *du = br->b_dur;

	if (du == NULL)
		return;
	br_loop_del(&br->b_loop, du->du_ev);
	close(du->du_timerfd);
	free(du);
	br->b_dur = NULL;
}

/* One shot, armed when a record waits for the group commit: an idle
 * broker does not wake up for it. */
static void
arm(struct br *br)
{
	struct br_dur *du = br->b_dur;
	uint64_t ms = br->b_conf->c_fsync_interval_ms;
	struct itimerspec it = { { 0, 0 }, { (time_t)(ms / 1000),
	    (long)(ms % 1000) * 1000000L } };

	if (du->du_armed || br->b_conf->c_fsync != BR_FSYNC_BATCH)
		return;
	if (timerfd_settime(du->du_timerfd, 0, &it, NULL) == 0)
		du->du_armed = true;
}

/* mkdir -p, 0700 for what it creates. */
static int
make_dirs(const char *path)
{
	char buf[BR_PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

static int
recover_one(uint64_t seq, const uint8_t *bytes, size_t len, void *arg)
{
	struct br_dactor *d = arg;
	struct mbx_item *it;

	if ((it = mbx_item_new(bytes, len)) == NULL)
		return -1;
	it->mi_dseq = seq;
	return mbx_restore(d->d_mbx, it) == MBX_OK ? 0 : -1;
}

static void
report(const char *name, const struct dlog_report *r)
{

	if (r->dr_truncated)
		log_warn("durable log damaged, tail truncated", "actor=%s "
		    "segment=%llu offset=%llu bytes_cut=%llu "
		    "segments_removed=%u reason=\"%s\"", name,
		    (unsigned long long)r->dr_trunc_segment,
		    (unsigned long long)r->dr_trunc_offset,
		    (unsigned long long)r->dr_trunc_bytes,
		    r->dr_segs_removed, r->dr_reason);
	log_info("durable log recovered", "actor=%s segments=%u records=%llu "
	    "acked=%llu redelivering=%llu", name, r->dr_segments,
	    (unsigned long long)r->dr_records,
	    (unsigned long long)r->dr_acked,
	    (unsigned long long)r->dr_unacked);
}

static int
open_log(struct br *br, struct br_dactor **dp, const char *name,
    struct mbx *mb)
{
	char dir[BR_PATH_MAX + BR_NAME_MAX + 2];
	struct dlog_opts o = { 0 };
	struct br_dactor *d;
	struct tp_err err = { 0 };

	if (br->b_dur == NULL || (d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->d_br = br;
	d->d_mbx = mb;
	snprintf(d->d_name, sizeof(d->d_name), "%s", name);
	snprintf(dir, sizeof(dir), "%s/%s", br->b_dur->du_dir, name);
	o.do_fsync = (enum dlog_fsync)br->b_conf->c_fsync;
	o.do_max_record = (uint32_t)(br->b_conf->c_max_body +
	    DUR_ENV_OVERHEAD);
	o.do_recover = recover_one;
	o.do_recover_arg = d;
	if (make_dirs(br->b_dur->du_dir) != 0) {
		log_error("cannot create the data dir", "actor=%s path=%s "
		    "error=\"%s\"", name, br->b_dur->du_dir, strerror(errno));
		free(d);
		return -1;
	}
	if (dlog_open(dir, &o, &d->d_log, &d->d_rep, &err) != 0) {
		log_error("cannot open durable log", "actor=%s dir=%s "
		    "error=\"%s\"", name, dir, err.e_msg);
		free(d);
		return -1;
	}
	report(name, &d->d_rep);
	d->d_next = br->b_dur->du_open;
	br->b_dur->du_open = d;
	*dp = d;
	return 0;
}

int
br_dur_attach(struct br *br, struct br_dactor **dp,
    const struct br_conf_actor *ca, struct mbx *mb)
{
	if (ca->ca_durable && *dp == NULL)
		return open_log(br, dp, ca->ca_name, mb);
	if (!ca->ca_durable && *dp != NULL)
		br_dur_detach(dp);
	return 0;
}

bool
br_dur_is(const struct br_dactor *d)
{
	return d != NULL;
}

/* Confirms the waiting senders whose records are durable now. */
static const struct br_dur_ops *ops;
static void *ops_arg;

void
br_dur_set_ops(const struct br_dur_ops *o, void *arg)
{
	ops = o;
	ops_arg = arg;
}

static void
confirm_durable(struct br_dactor *d)
{
	uint64_t durable = dlog_durable(d->d_log);

	while (d->d_len > 0 && d->d_ring[d->d_head].dw_seq <= durable) {
		struct dwait w = d->d_ring[d->d_head];

		d->d_head = (d->d_head + 1) % d->d_cap;
		d->d_len--;
		ops->do_confirm(ops_arg, w.dw_origin, w.dw_pend, w.dw_id,
		    w.dw_flags);
	}
}

/* Group commit: one fdatasync per log for everything appended since. */
static void
commit(struct br_dactor *d)
{
	struct tp_err err = { 0 };

	if (dlog_sync_pending(d->d_log) &&
	    dlog_sync(d->d_log, NULL, &err) != 0) {
		log_error("durable log sync failed", "actor=%s error=\"%s\"",
		    d->d_name, err.e_msg);
		arm(d->d_br);	/* senders stay unconfirmed; try again */
		return;
	}
	confirm_durable(d);
}

static void
on_commit(void *arg)
{
	struct br *br = arg;
	uint64_t ticks;

	if (read(br->b_dur->du_timerfd, &ticks, sizeof(ticks)) < 0 &&
	    errno == EAGAIN)
		return;
	br->b_dur->du_armed = false;
	for (struct br_dactor *d = br->b_dur->du_open; d != NULL;
	    d = d->d_next)
		commit(d);
}

void
br_dur_close(struct br_dactor **dp)
{
	struct br_dactor *d = *dp, **pp;

	if (d == NULL)
		return;
	for (pp = &d->d_br->b_dur->du_open; *pp != NULL; pp = &(*pp)->d_next)
		if (*pp == d) {
			*pp = d->d_next;
			break;
		}
	dlog_close(d->d_log);
	free(d->d_ring);
	free(d);
	*dp = NULL;
}

void
br_dur_detach(struct br_dactor **dp)
{
	if (*dp == NULL)
		return;
	commit(*dp);
	br_dur_close(dp);
}

int
br_dur_append(struct br_dactor *d, struct mbx_item *it)
{
	struct tp_err err = { 0 };

	if (dlog_append(d->d_log, it->mi_data, it->mi_len, &it->mi_dseq,
	    &err) != 0) {
		log_error("durable log append failed", "actor=%s error=\"%s\"",
		    d->d_name, err.e_msg);
		return -1;
	}
	if (dlog_durable(d->d_log) >= it->mi_dseq)
		return 1;
	arm(d->d_br);
	return 0;
}

static int
ring_grow(struct br_dactor *d)
{
	size_t cap = d->d_cap ? d->d_cap * 2 : 64;
	struct dwait *r;

	if ((r = malloc(cap * sizeof(*r))) == NULL)
		return -1;
	for (size_t i = 0; i < d->d_len; i++)
		r[i] = d->d_ring[(d->d_head + i) % d->d_cap];
	free(d->d_ring);
	d->d_ring = r;
	d->d_cap = cap;
	d->d_head = 0;
	return 0;
}

int
br_dur_wait(struct br_dactor *d, uint64_t seq, uint32_t origin,
    uint64_t pend, uint64_t id, uint32_t flags)
{

	if (d->d_len == d->d_cap && ring_grow(d) != 0)
		return -1;
	d->d_ring[(d->d_head + d->d_len) % d->d_cap] = (struct dwait){
	    .dw_seq = seq, .dw_pend = pend, .dw_id = id,
	    .dw_origin = origin, .dw_flags = flags };
	d->d_len++;
	return 0;
}

static void
ack_range(struct br_dactor *d, uint64_t lo, uint64_t hi)
{
	struct tp_err err = { 0 };

	if (dlog_ack(d->d_log, lo, hi, &err) != 0)
		log_warn("durable log ack failed", "actor=%s lo=%llu hi=%llu "
		    "error=\"%s\"", d->d_name, (unsigned long long)lo,
		    (unsigned long long)hi, err.e_msg);
	arm(d->d_br);
}

/* One dlog_ack per run of consecutive seqs among the first n items. */
static void
ack_items(struct br_dactor *d, const struct mbx_item *it, uint32_t n)
{
	uint64_t lo = 0, hi = 0;

	for (uint32_t i = 0; i < n && it != NULL; i++, it = it->mi_next) {
		if (it->mi_dseq == 0)
			continue;
		if (lo != 0 && it->mi_dseq == hi + 1) {
			hi++;
			continue;
		}
		if (lo != 0)
			ack_range(d, lo, hi);
		lo = hi = it->mi_dseq;
	}
	if (lo != 0)
		ack_range(d, lo, hi);
}

void
br_dur_acked_from(struct br_dactor *d, const struct mbx_item *head,
    uint32_t n)
{
	if (d != NULL)
		ack_items(d, head, n);
}

void
br_dur_dropped(struct br_dactor *d, const struct mbx_item *list)
{
	if (d != NULL)
		ack_items(d, list, UINT32_MAX);
}

void
br_dur_pack(msgpack_packer *pk, const struct br_dactor *d)
{
	const struct dlog_report *r;
	const struct dlog_stats *st;
	char cut[192] = "";

	msgpack_pack_str_with_body(pk, "durable", 7);
	if (d != NULL)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	msgpack_pack_str_with_body(pk, "log", 3);
	if (d == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	r = &d->d_rep;
	st = dlog_stats(d->d_log);
	if (r->dr_truncated)
		snprintf(cut, sizeof(cut), "segment %llu offset %llu: %llu "
		    "bytes cut, %u later segments removed (%s)",
		    (unsigned long long)r->dr_trunc_segment,
		    (unsigned long long)r->dr_trunc_offset,
		    (unsigned long long)r->dr_trunc_bytes,
		    r->dr_segs_removed, r->dr_reason);
	msgpack_pack_map(pk, 10);
	br_kv_str(pk, "fsync", dlog_fsync_name(
	    (enum dlog_fsync)d->d_br->b_conf->c_fsync));
	br_kv_uint(pk, "segments", st->ds_segments);
	br_kv_uint(pk, "bytes", st->ds_bytes);
	br_kv_uint(pk, "next_seq", dlog_next_seq(d->d_log));
	br_kv_uint(pk, "durable_seq", dlog_durable(d->d_log));
	br_kv_uint(pk, "waiting", d->d_len);
	br_kv_uint(pk, "recovered", r->dr_unacked);
	br_kv_uint(pk, "appended", st->ds_appended);
	msgpack_pack_str_with_body(pk, "truncated", 9);
	if (r->dr_truncated)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	br_kv_str(pk, "truncation", cut);
}

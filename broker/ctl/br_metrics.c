/*
 * br_metrics — Prometheus exposition over nng's HTTP server (see
 * br_metrics.h for the threading rule: only the snapshot is shared).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "br.h"
#include "br_actor.h"
#include "br_log.h"
#include "br_metrics.h"
#include "br_stat.h"
#include "br_sup.h"	/* sup_restarts */
#include "br_topic.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct br_metrics {
	nng_http_server	*m_srv;
	nng_http_handler *m_h;
	pthread_mutex_t	 m_lock;	/* guards m_snap, m_len only */
	char		*m_snap;	/* immutable once swapped in */
	size_t		 m_len;
	uint64_t	 m_next_ms;	/* loop thread only */
	uint64_t	 m_renders;	/* loop thread only */
};

/* --- writing the exposition --------------------------------------------- */

/* A writer for one rendering: samples get node="..." first. */
struct br_mx {
	FILE		*mx_fp;
	const char	*mx_node;
};

/* "# HELP" and "# TYPE" of one family (type "counter" or "gauge"). */
static void
br_mx_family(struct br_mx *mx, const char *name, const char *type,
    const char *help)
{
	fprintf(mx->mx_fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Label values escape backslash, quote and newline. */
static void
label_value(FILE *fp, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', fp);
		if (*v == '\n')
			fputs("\\n", fp);
		else
			fputc(*v, fp);
	}
}

/* name{node="N"[,lkey="lval"]} v, label values escaped; lkey may be
 * NULL. */
static void
br_mx_sample(struct br_mx *mx, const char *name, const char *lkey,
    const char *lval, uint64_t v)
{
	fprintf(mx->mx_fp, "%s{node=\"", name);
	label_value(mx->mx_fp, mx->mx_node);
	if (lkey != NULL) {
		fprintf(mx->mx_fp, "\",%s=\"", lkey);
		label_value(mx->mx_fp, lval);
	}
	fprintf(mx->mx_fp, "\"} %llu\n", (unsigned long long)v);
}

/* --- what is exported ---------------------------------------------------- */

enum af_value { AF_DEPTH, AF_BYTES, AF_CAPACITY, AF_INFLIGHT, AF_WAITING,
    AF_RECEIVED, AF_DELIVERED, AF_ACKED, AF_DROPPED, AF_REJECTED,
    AF_REDELIVERED, AF_SENT, AF_RESTARTS };

struct actor_family {
	const char	*af_name;
	const char	*af_type;
	const char	*af_help;
	enum af_value	 af_value;
};

/* A pool's series are the pool's: what its instances were handed is
 * summed over them (their own series carry NAME#k). */
static uint64_t
actor_value(const struct br_actor *a, enum af_value v)
{
	const struct mbx_stats *st = mbx_stats(&a->a_mbx);
	struct br_pool_sums ps;

	br_actor_pool_sums(a, &ps);
	switch (v) {
	case AF_DEPTH:		return mbx_depth(&a->a_mbx);
	case AF_BYTES:		return mbx_bytes(&a->a_mbx);
	case AF_CAPACITY:	return a->a_conf.ca_mailbox;
	case AF_INFLIGHT:	return ps.ps_inflight;
	case AF_WAITING:	return br_wait_count(&a->a_waitq);
	case AF_RECEIVED:	return st->mst_received;
	case AF_DELIVERED:	return ps.ps_delivered;
	case AF_ACKED:		return ps.ps_acknowledged;
	case AF_DROPPED:	return st->mst_dropped;
	case AF_REJECTED:	return st->mst_rejected;
	case AF_REDELIVERED:	return ps.ps_redelivered;
	case AF_SENT:		return a->a_sent;
	case AF_RESTARTS:	return sup_restarts(a);
	}
	return 0;
}

static const struct actor_family actor_families[] = {
	{ "troupe_actor_mailbox_depth", "gauge",
	  "Messages queued in the actor's mailbox.", AF_DEPTH },
	{ "troupe_actor_mailbox_bytes", "gauge",
	  "Bytes queued in the actor's mailbox.", AF_BYTES },
	{ "troupe_actor_mailbox_capacity", "gauge",
	  "Capacity of the actor's mailbox in messages.", AF_CAPACITY },
	{ "troupe_actor_inflight", "gauge",
	  "Messages delivered to the actor and not yet acknowledged.",
	  AF_INFLIGHT },
	{ "troupe_actor_waiting_senders", "gauge",
	  "Senders held by a full block-policy mailbox.", AF_WAITING },
	{ "troupe_actor_received_total", "counter",
	  "Messages accepted into the actor's mailbox.", AF_RECEIVED },
	{ "troupe_actor_delivered_total", "counter",
	  "Messages delivered to the actor process.", AF_DELIVERED },
	{ "troupe_actor_acknowledged_total", "counter",
	  "Messages the actor acknowledged.", AF_ACKED },
	{ "troupe_actor_dropped_total", "counter",
	  "Messages dropped by the overflow policy.", AF_DROPPED },
	{ "troupe_actor_rejected_total", "counter",
	  "Messages rejected by the overflow policy.", AF_REJECTED },
	{ "troupe_actor_redelivered_total", "counter",
	  "Messages delivered again after the actor died.", AF_REDELIVERED },
	{ "troupe_actor_sent_total", "counter",
	  "Messages the actor sent.", AF_SENT },
	{ "troupe_actor_restarts_total", "counter",
	  "Times the supervisor restarted the actor.", AF_RESTARTS },
};

#define NACTOR_FAMILIES \
	(sizeof(actor_families) / sizeof(actor_families[0]))

static void
render_actors(struct br_mx *mx, const struct br *br)
{
	const struct actor_family *f;

	for (f = actor_families; f < actor_families + NACTOR_FAMILIES; f++) {
		br_mx_family(mx, f->af_name, f->af_type, f->af_help);
		for (uint32_t i = 0; i < br->b_nactors; i++)
			br_mx_sample(mx, f->af_name, "actor",
			    br->b_actors[i]->a_conf.ca_name,
			    actor_value(br->b_actors[i], f->af_value));
	}
}

/* Per pool its size and running instances; per distinct subscription
 * pattern the copies it brought (topics as configured or subscribed,
 * never every published name: bounded by the subscription limits). */
static void
render_pools(struct br_mx *mx, const struct br *br)
{
	static const char *const fam[2][2] = {
	    { "troupe_pool_instances", "Instances a pool is to run." },
	    { "troupe_pool_running", "Instances of a pool running." } };
	struct br_pool_sums ps;

	for (int k = 0; k < 2; k++) {
		br_mx_family(mx, fam[k][0], "gauge", fam[k][1]);
		for (uint32_t i = 0; i < br->b_nactors; i++) {
			const struct br_actor *a = br->b_actors[i];

			if (!br_actor_is_pool(a) || a->a_removed)
				continue;
			br_actor_pool_sums(a, &ps);
			br_mx_sample(mx, fam[k][0], "actor", a->a_conf.ca_name,
			    k == 0 ? a->a_ninst : ps.ps_running);
		}
	}
}

static void
topic_sample(void *arg, const char *pat, uint64_t copies)
{
	br_mx_sample(arg, "troupe_subscription_copies_total", "topic", pat,
	    copies);
}

static void
render_topics(struct br_mx *mx, const struct br *br)
{
	br_mx_family(mx, "troupe_subscription_copies_total", "counter",
	    "Copies of published messages a subscription pattern brought.");
	br_topic_each(br, topic_sample, mx);
}

/* One series per actor: troupe_actor_state{actor,state} 1 for its state
 * (the state is a label value so dashboards can count by state). */
static void
render_states(struct br_mx *mx, const struct br *br)
{
	FILE *fp = mx->mx_fp;

	br_mx_family(mx, "troupe_actor_state", "gauge", "1 for the actor's "
	    "current state.");
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		const struct br_actor *a = br->b_actors[i];

		fputs("troupe_actor_state{node=\"", fp);
		label_value(fp, mx->mx_node);
		fputs("\",actor=\"", fp);
		label_value(fp, a->a_conf.ca_name);
		fprintf(fp, "\",state=\"%s\"} 1\n", br_astate_name(a->a_state));
	}
}

/* A row of the counters table: a new family gets its HELP and TYPE
 * first (the table keeps a family's rows together). */
struct walk {
	struct br_mx	*w_mx;
	const char	*w_family;	/* the family being written */
};

static void
render_row(void *arg, const struct br_stat_row *r)
{
	struct walk *w = arg;

	if (r->sr_family == NULL)
		return;
	if (w->w_family == NULL || strcmp(w->w_family, r->sr_family) != 0)
		br_mx_family(w->w_mx, r->sr_family, r->sr_type, r->sr_help);
	w->w_family = r->sr_family;
	if (r->sr_lkey != NULL && r->sr_lval == NULL)
		return;
	br_mx_sample(w->w_mx, r->sr_family, r->sr_lkey, r->sr_lval,
	    r->sr_value);
}

/* Every section, in order: the counters table, then the per-actor
 * families. */
static void
render_sections(struct br_mx *mx, const struct br *br, uint64_t now)
{
	struct walk w = { mx, NULL };

	br_stat_each(br, now, render_row, &w);
	render_actors(mx, br);
	render_states(mx, br);
	render_pools(mx, br);
	render_topics(mx, br);
}

/* --- snapshots ----------------------------------------------------------- */

static int
render(struct br_metrics *m, const struct br *br, uint64_t now)
{
	struct br_mx mx = { NULL, br->b_node };
	char *buf = NULL, *old;
	size_t len = 0;

	if ((mx.mx_fp = open_memstream(&buf, &len)) == NULL)
		return -1;
	render_sections(&mx, br, now);
	br_mx_family(&mx, "troupe_metrics_renders_total", "counter",
	    "Snapshots rendered for this endpoint.");
	br_mx_sample(&mx, "troupe_metrics_renders_total", NULL, NULL,
	    ++m->m_renders);
	if (fclose(mx.mx_fp) != 0) {
		free(buf);
		return -1;
	}
	pthread_mutex_lock(&m->m_lock);
	old = m->m_snap;
	m->m_snap = buf;
	m->m_len = len;
	pthread_mutex_unlock(&m->m_lock);
	free(old);	/* the handler copies under the lock: nobody holds it */
	return 0;
}

/* nng thread: touches the snapshot only, under the lock. */
static void
serve(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct br_metrics *m = nng_http_handler_get_data(h);
	nng_http_res *res;
	int rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv);
		return;
	}
	pthread_mutex_lock(&m->m_lock);
	rv = nng_http_res_copy_data(res, m->m_snap, m->m_len);
	pthread_mutex_unlock(&m->m_lock);
	if (rv == 0)
		rv = nng_http_res_set_header(res, "Content-Type",
		    CONTENT_TYPE);
	if (rv != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static int
start_server(struct br_metrics *m, const char *url_text)
{
	nng_url *url;
	int rv;

	if ((rv = nng_url_parse(&url, url_text)) != 0)
		return rv;
	if ((rv = nng_http_server_hold(&m->m_srv, url)) == 0 &&
	    (rv = nng_http_handler_alloc(&m->m_h, url->u_path[0] ?
	    url->u_path : "/", serve)) == 0) {
		nng_http_handler_set_data(m->m_h, m, NULL);
		if ((rv = nng_http_server_add_handler(m->m_srv, m->m_h)) != 0)
			nng_http_handler_free(m->m_h);
		else
			rv = nng_http_server_start(m->m_srv);
	}
	nng_url_free(url);
	return rv;
}

int
br_metrics_open(struct br *br)
{
	const char *url = br->b_conf->c_metrics;
	struct br_metrics *m;
	int rv;

	br->b_metrics = NULL;
	if (url[0] == '\0')
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	pthread_mutex_init(&m->m_lock, NULL);
	if (render(m, br, br_now_ms()) != 0) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	if ((rv = start_server(m, url)) != 0)
		goto fail;
	br->b_metrics = m;
	m->m_next_ms = 0;	/* actors are added after us: render soon */
	log_info("metrics ready", "url=%s", url);
	return 0;
fail:
	log_error("cannot serve metrics", "url=%s error=\"%s\"", url,
	    nng_strerror(rv));
	if (m->m_srv != NULL)
		nng_http_server_release(m->m_srv);
	pthread_mutex_destroy(&m->m_lock);
	free(m->m_snap);
	free(m);
	return -1;
}

void
br_metrics_tick(struct br *br, uint64_t now)
{
	struct br_metrics *m = br->b_metrics;

	if (m == NULL || now < m->m_next_ms)
		return;
	m->m_next_ms = now + BR_METRICS_REFRESH_MS;
	if (render(m, br, now) != 0)
		log_warn("cannot render metrics", NULL);
}

void
br_metrics_close(struct br *br)
{
	struct br_metrics *m = br->b_metrics;

	if (m == NULL)
		return;
	nng_http_server_stop(m->m_srv);
	nng_http_server_release(m->m_srv);
	pthread_mutex_destroy(&m->m_lock);
	free(m->m_snap);
	free(m);
	br->b_metrics = NULL;
}

/*
 * br_link — the frame layer of a peer link: its send queue, batching,
 * and the two choke points where frames are sealed (send_frame) and
 * opened (br_link_open) with the link's tp_sec session.  Loop thread
 * only.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "br_link.h"
#include "tp_nng.h"

#define BATCH_MAX 256
#define BATCH_BYTES (256u << 10)

/* Sends the frame the socket refused last time; 0 once none is left. */
static int
stash_send(struct br_lframes *f, nng_socket s)
{
	int rv;

	if (f->lf_stash == NULL)
		return 0;
	if ((rv = nng_sendmsg(s, f->lf_stash, NNG_FLAG_NONBLOCK)) != 0)
		return rv;
	f->lf_stash = NULL;
	f->lf_frames_out++;
	return 0;
}

/* Seals *msgp in place of the plaintext (which is freed). */
static int
seal_frame(struct tp_sec_sess *ss, nng_msg **msgp)
{
	nng_msg *in = *msgp, *out;
	size_t len = nng_msg_len(in), olen;
	int rv;

	if ((rv = nng_msg_alloc(&out, len + tp_sec_overhead())) != 0)
		return rv;
	if ((rv = tp_sec_seal(ss, nng_msg_body(in), len,
	    nng_msg_body(out), nng_msg_len(out), &olen)) != 0) {
		nng_msg_free(out);
		return rv;
	}
	nng_msg_chop(out, nng_msg_len(out) - olen);
	nng_msg_free(in);
	*msgp = out;
	return 0;
}

/*
 * Takes msg (always).  Hellos go plain, everything else sealed; a sealed
 * frame the socket refuses is kept as it is and sent first next time,
 * never sealed again: a counter is used for one plaintext only.
 * Returns 0 (sent), 1 (stashed: socket full) or -1 (cannot seal).
 */
static int
send_frame(struct br_lframes *f, nng_socket s, struct tp_sec_sess *ss,
    nng_msg *msg, bool plain)
{
	if (!plain && seal_frame(ss, &msg) != 0) {
		nng_msg_free(msg);
		return -1;
	}
	f->lf_stash = msg;
	return stash_send(f, s) == 0 ? 0 : 1;
}

/* Replaces *msgp by its opened plaintext; the session checks the tag and
 * that the counter is exactly the next one. */
int
br_link_open(struct tp_sec_sess *ss, nng_msg **msgp, struct tp_err *err)
{
	nng_msg *in = *msgp, *out;
	size_t len = nng_msg_len(in), plen;
	int rv;

	if (nng_msg_alloc(&out, len) != 0)
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	if ((rv = tp_sec_open(ss, nng_msg_body(in), len,
	    nng_msg_body(out), len, &plen, err)) != 0) {
		nng_msg_free(out);
		return rv;
	}
	nng_msg_chop(out, len - plen);
	nng_msg_free(in);
	*msgp = out;
	return 0;
}

void
br_link_push(struct br_lframes *f, struct mbx_item *it)
{
	struct mbx_list *q = &f->lf_outq;

	it->mi_next = NULL;
	if (q->ml_tail != NULL)
		q->ml_tail->mi_next = it;
	else
		q->ml_head = it;
	q->ml_tail = it;
	q->ml_count++;
	q->ml_bytes += it->mi_len;
}

static struct mbx_item *
encode_env(const struct tp_env *env)
{
	struct mbx_item *it;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	it = tp_env_pack(&pk, env) == 0 ? mbx_item_new(sb.data, sb.size) :
	    NULL;
	msgpack_sbuffer_destroy(&sb);
	return it;
}

/* Hellos (plain) flow before the link is up and always precede sealed
 * frames in the queue: lf_nplain counts them at its head. */
int
br_link_queue(struct br_lframes *f, const struct tp_env *env, bool plain)
{
	struct mbx_item *it;

	if ((it = encode_env(env)) == NULL)
		return -1;
	br_link_push(f, it);
	f->lf_nplain += plain;
	return 0;
}

/* Pops n items (bytes in all) off the head of the queue. */
static void
outq_pop(struct br_lframes *f, uint32_t n, size_t bytes)
{
	struct mbx_item *it = f->lf_outq.ml_head;

	for (uint32_t i = 0; i < n; i++) {
		struct mbx_item *next = it->mi_next;

		mbx_item_free(it);
		it = next;
	}
	f->lf_outq.ml_head = it;
	if (it == NULL)
		f->lf_outq.ml_tail = NULL;
	f->lf_outq.ml_count -= n;
	f->lf_outq.ml_bytes -= bytes;
}

/* One frame from the head of the queue: a hello alone, one envelope
 * alone (latency), or a batch when there is a backlog.  Returns what
 * send_frame returns. */
static int
flush_one(struct br_lframes *f, nng_socket s, struct tp_sec_sess *ss)
{
	struct mbx_item *it = f->lf_outq.ml_head, *last = it;
	bool plain = f->lf_nplain > 0;
	uint32_t n = 0, max = plain ? 1 : BATCH_MAX;
	size_t bytes = 0;
	msgpack_packer pk;
	nng_msg *msg;

	for (; last != NULL && n < max && bytes < BATCH_BYTES;
	    last = last->mi_next)
		n++, bytes += last->mi_len;
	if (nng_msg_alloc(&msg, 0) != 0)
		return 1;
	if (n > 1) {
		tp_packer_init_msg(&pk, msg);
		tp_batch_pack_head(&pk, n);
	}
	for (struct mbx_item *i = it; i != last; i = i->mi_next)
		nng_msg_append(msg, i->mi_data, i->mi_len);
	outq_pop(f, n, bytes);
	f->lf_nplain -= plain;
	return send_frame(f, s, ss, msg, plain);
}

int
br_link_flush(struct br_lframes *f, nng_socket s, struct tp_sec_sess *ss)
{
	int rv = 0;

	if (stash_send(f, s) != 0)
		return 1;
	while (f->lf_outq.ml_head != NULL && (rv = flush_one(f, s, ss)) == 0)
		;
	return rv;
}

void
br_link_drop(struct br_lframes *f)
{
	if (f->lf_stash != NULL)
		nng_msg_free(f->lf_stash);
	f->lf_stash = NULL;
	mbx_item_free_list(f->lf_outq.ml_head);
	memset(&f->lf_outq, 0, sizeof(f->lf_outq));
	f->lf_nplain = 0;
}

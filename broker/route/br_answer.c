/*
 * br_answer — answers to any origin through the ops its owner
 * registered.  Loop thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "br.h"
#include "br_answer.h"

static struct {
	const struct br_answer_ops *ops;
	void	*arg;
} classes[BR_OC_N];

void
br_answer_set_ops(enum br_oclass c, const struct br_answer_ops *ops,
    void *arg)
{
	classes[c].ops = ops;
	classes[c].arg = arg;
}

int
br_answer(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t corr, const uint8_t *body, size_t len)
{
	struct tp_env env = { .e_kind = kind, .e_corr = corr,
	    .e_body = body, .e_body_len = len, .e_id = br_next_id(br) };
	enum br_oclass c = br_origin_class(o);

	env.e_from = tp_slice_str(br->b_node);
	if (classes[c].ops == NULL)
		return -1;
	return classes[c].ops->an_send(classes[c].arg, o, &env);
}

int
br_answer_error(struct br *br, const struct br_origin *o, uint64_t corr,
    int code, const char *fmt, ...)
{
	char text[256];
	uint8_t body[sizeof(text) + 32];
	struct tp_fixbuf fb = { body, sizeof(body), 0 };
	msgpack_packer pk;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* 256 bytes of text and two keys always fit the stack buffer */
	msgpack_packer_init(&pk, &fb, tp_fixbuf_write);
	if (msgpack_pack_map(&pk, 2) != 0 ||
	    msgpack_pack_str_with_body(&pk, "code", 4) != 0 ||
	    msgpack_pack_int(&pk, code) != 0 ||
	    msgpack_pack_str_with_body(&pk, "message", 7) != 0 ||
	    msgpack_pack_str_with_body(&pk, text, strlen(text)) != 0)
		return -1;
	return br_answer(br, o, TP_K_ERROR, corr, body, fb.fb_len);
}

void
br_answer_credit(const struct br_origin *o)
{
	enum br_oclass c = br_origin_class(o);

	if (classes[c].ops != NULL && classes[c].ops->an_credit != NULL)
		classes[c].ops->an_credit(classes[c].arg, o);
}

const char *
br_answer_name(const struct br_origin *o)
{
	enum br_oclass c = br_origin_class(o);
	const char *n = NULL;

	if (classes[c].ops != NULL && classes[c].ops->an_name != NULL)
		n = classes[c].ops->an_name(classes[c].arg, o);
	return n != NULL ? n : "?";
}

/*
 * br_kv — packs one "key": value pair of a msgpack map, the shape of
 * every control answer and link body the broker writes.  A leaf: it
 * calls nothing but msgpack-c, so any module may use it.
 */
#ifndef BR_KV_H
#define BR_KV_H

#include <stdint.h>

#include <msgpack.h>

/* k and v are NUL-terminated and copied into pk's buffer. */
void br_kv_str(msgpack_packer *pk, const char *k, const char *v);
void br_kv_uint(msgpack_packer *pk, const char *k, uint64_t v);

#endif

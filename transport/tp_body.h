/*
 * tp_body — one typed reader for untrusted msgpack bodies (control ops,
 * peer hello and gossip, beacons, answers the CLI reads), after OpenSMTPD's
 * m_get_* / m_end: open a cursor, take each field with a getter that checks
 * its type and size, then tp_body_end says whether anything was wrong.
 *
 * Why a cursor over a decoded object and not over raw bytes: every body
 * the broker reads has already passed the tp_mpck bounds walk (the frame
 * walk in tp_env_decode, or tp_body_unpack below for loose bytes), after
 * which msgpack-c allocates at most a small multiple of the input in the
 * caller's zone; the getters then only compare and copy, with no second
 * hand-written msgpack parser to get wrong.  Nothing here allocates.
 *
 * A map cursor takes fields by key, in any order; an array cursor takes
 * elements in order (pass key NULL).  Errors stick: the first failed getter
 * records its error (code and one line in err, prefixed by the cursor's
 * `what`), every later getter returns it untouched, and tp_body_end
 * returns it.  So a reader may take all its fields and check once:
 *
 *	struct tp_body b;
 *	const char *node; size_t nlen; uint64_t inc, sess;
 *
 *	tp_body_open(&b, &obj, 0, "hello", &err);
 *	tp_body_str(&b, "node", 0, BR_NAME_MAX - 1, &node, &nlen);
 *	tp_body_uint(&b, "inc", 0, 0, UINT64_MAX, &inc);
 *	tp_body_uint(&b, "sess", 0, 1, UINT64_MAX, &sess);
 *	tp_body_skip(&b, "op");
 *	if (tp_body_end(&b) != 0)
 *		... err.e_msg says e.g. `hello: missing "sess"` ...
 *
 * or test each getter's return where the answer needs its own message.
 * A list whose bad entries are skipped, not fatal (the names gossip
 * {"op":"names","names":[[name, state, pid], ...]}):
 *
 *	struct tp_body b, list, e;
 *
 *	tp_body_open(&b, &obj, TP_BODY_LAX, "names", NULL);
 *	tp_body_array(&b, "names", 0, BR_MAX_ACTORS, &list);
 *	while (tp_body_array(&list, NULL, TP_BODY_OPT, 3, &e) == 0) {
 *		tp_body_strz(&e, NULL, TP_BODY_NONEMPTY, name, sizeof(name));
 *		tp_body_strz(&e, NULL, 0, state, sizeof(state));
 *		tp_body_uint(&e, NULL, 0, 0, UINT32_MAX, &pid);
 *		if (tp_body_end(&e) == 0)
 *			... keep it ...
 *	}
 *	if (tp_body_end(&list) != 0) ... not a list, or over the bound ...
 * The end check of a strict map (the default) refuses any key no getter
 * took: `spawn: unknown field "x"`; of an array, elements left unread.
 * TP_BODY_LAX opens a map whose extra keys are allowed (answers of a newer
 * peer the reader only samples, gossip between versions).
 *
 * Error codes (tp_err.h): TP_ETYPE wrong type (the body not a map, a key
 * not a string, a field of another type), TP_EINVAL a required field
 * missing, an unknown key or a duplicate key, TP_ETOOBIG a string or bin
 * over its limit, an integer out of its range, a count over its bound,
 * TP_ETRAILING array elements left, TP_EDEPTH/TP_ETRUNC from tp_body_unpack.
 *
 * Pointers the getters give (strings, bins, objects) point into the
 * decoded object, so they live as long as its zone and the bytes it was
 * unpacked from.  A cursor is a small struct on the caller's stack.
 */
#ifndef TP_BODY_H
#define TP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tp_err.h"

/* Keys a strict map may have: one bit each says that a getter took it. */
#define TP_BODY_KEYS_MAX 64

/* Getter flags (and, where said, tp_body_open flags). */
#define TP_BODY_OPT	0x1u	/* absent is fine: the getter returns 1 */
#define TP_BODY_LAX	0x2u	/* open: a map may have keys nobody takes */
#define TP_BODY_NONEMPTY 0x4u	/* str/bin: zero bytes is an error */
#define TP_BODY_NONUL	0x8u	/* str: no NUL byte inside (a C name) */

/* Returned by a getter for an absent TP_BODY_OPT field or element. */
#define TP_BODY_ABSENT	1

struct tp_body {
	const msgpack_object *bd_obj;	/* the map or array being read */
	const char	*bd_what;	/* message prefix: "spawn", "beacon" */
	struct tp_err	*bd_err;	/* may be NULL */
	uint64_t	 bd_seen;	/* strict map: bit i = pair i taken */
	uint32_t	 bd_next;	/* array: the next element */
	unsigned	 bd_flags;
	int		 bd_rv;		/* first error; sticks */
};

/*
 * Untrusted bytes to one object: walks buf with tp_mpck (every count
 * bounded by the bytes left, nesting at most max_depth, at most
 * TP_MPCK_DEPTH_MAX) before msgpack-c unpacks it into zone (the caller's,
 * not cleared here).  len 0 is nil.  Returns 0 with *obj living as long as
 * zone and buf, or TP_ETRUNC, TP_ETOOBIG, TP_EDEPTH, TP_ETYPE, TP_ETRAILING
 * (bytes after the value), TP_ENOMEM with err filled.
 */
int tp_body_unpack(const void *buf, size_t len, unsigned max_depth,
    msgpack_zone *zone, msgpack_object *obj, struct tp_err *err);

/*
 * Opens a map cursor over o (not copied; it must outlive b).  flags: 0 or
 * TP_BODY_LAX.  Strict: at most TP_BODY_KEYS_MAX pairs, every key a string,
 * no key twice.  Lax: keys that are not strings are never matched, the
 * first of twice-given keys wins.  what (static, may be NULL) prefixes
 * every message.  Returns 0, or the error, which also sticks in b (so a
 * reader may ignore this return and check tp_body_end).
 */
int tp_body_open(struct tp_body *b, const msgpack_object *o, unsigned flags,
    const char *what, struct tp_err *err);

/*
 * Opens an array cursor over o: o must be an array of min..max elements.
 * Getters then take the elements in order (key NULL).  Returns as
 * tp_body_open.
 */
int tp_body_open_array(struct tp_body *b, const msgpack_object *o,
    uint32_t min, uint32_t max, const char *what, struct tp_err *err);

/*
 * Getters.  key: the field of a map cursor, NULL for the next element of
 * an array cursor.  flags: TP_BODY_OPT and, where said, NONEMPTY/NONUL.
 * Each returns 0 with the outputs set, TP_BODY_ABSENT (outputs untouched)
 * for an absent optional field, or a negative TP_E* that sticks in b (and
 * the sticky one, outputs untouched, once b has failed).
 */

/* A string of at most max bytes (flags may add NONEMPTY, NONUL); *p is not
 * NUL-terminated. */
int tp_body_str(struct tp_body *b, const char *key, unsigned flags,
    size_t max, const char **p, size_t *len);

/* A string copied NUL-terminated into buf (size bytes, the caller's): at
 * most size - 1 bytes, never a NUL inside.  On error buf is "". */
int tp_body_strz(struct tp_body *b, const char *key, unsigned flags,
    char *buf, size_t size);

/* A string as tp_body_strz, or a non-negative integer as its decimal
 * text: a value that becomes configuration text ("mailbox": 64 or "64"). */
int tp_body_text(struct tp_body *b, const char *key, unsigned flags,
    char *buf, size_t size);

/* A non-negative integer in min..max. */
int tp_body_uint(struct tp_body *b, const char *key, unsigned flags,
    uint64_t min, uint64_t max, uint64_t *v);

/* Any integer in min..max (msgpack keeps non-negative ones unsigned). */
int tp_body_int(struct tp_body *b, const char *key, unsigned flags,
    int64_t min, int64_t max, int64_t *v);

int tp_body_bool(struct tp_body *b, const char *key, unsigned flags,
    bool *v);

/* A bin of at most max bytes (flags may add NONEMPTY). */
int tp_body_bin(struct tp_body *b, const char *key, unsigned flags,
    size_t max, const uint8_t **p, size_t *len);

/*
 * A nested map, opened as sub (flags may add LAX for sub), of at most
 * max_keys pairs (a strict one at most TP_BODY_KEYS_MAX); or a nested
 * array of at most max elements.  sub is a cursor of its own: b records
 * only a missing required field, everything about the value (not a map,
 * too many pairs, its fields) stays in sub, so that a reader of a list can
 * skip a bad entry by testing tp_body_end(sub) -- and so every sub must be
 * checked.  An absent optional one is an empty cursor (its end check
 * passes).  Returns b's side only: 0 (sub opened, maybe failed),
 * TP_BODY_ABSENT, or b's error -- so `while (tp_body_array(&list, NULL,
 * TP_BODY_OPT, ...) == 0)` visits every element of a list.
 */
int tp_body_map(struct tp_body *b, const char *key, unsigned flags,
    uint32_t max_keys, struct tp_body *sub);
int tp_body_array(struct tp_body *b, const char *key, unsigned flags,
    uint32_t max, struct tp_body *sub);

/* The value as it is, any type (a body carried through, a field of
 * several types the caller sorts out itself). */
int tp_body_value(struct tp_body *b, const char *key, unsigned flags,
    const msgpack_object **v);

/* Marks key taken without reading it (a dispatch key read before).  Not
 * an error when absent. */
void tp_body_skip(struct tp_body *b, const char *key);

/*
 * The end check: returns b's sticky error, else for a strict map
 * TP_EINVAL naming the first key no getter took, for an array TP_ETRAILING
 * when elements are left, else 0.  The error sticks too.
 */
int tp_body_end(struct tp_body *b);

/* b's sticky error (0 while none). */
int tp_body_error(const struct tp_body *b);

/*
 * The one plain lookup (for readers of a whole decoded body that keep
 * msgpack objects, like troupe_obj_map_get): the value of the first pair
 * of map m whose key is the string key (len bytes), or NULL when m is
 * NULL, not a map or has no such key.  No type check on the value.
 */
const msgpack_object *tp_body_find(const msgpack_object *m, const char *key,
    size_t len);

/* True when o is a string of exactly the bytes of NUL-terminated s. */
bool tp_body_is_str(const msgpack_object *o, const char *s);

/* True when p, len (a string a getter gave) is exactly s. */
bool tp_body_streq(const char *p, size_t len, const char *s);

#endif

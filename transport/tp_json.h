/*
 * tp_json — the one msgpack -> JSON converter (jansson), shared by the CLI
 * (answers, watch records) and libtroupe (troupe_obj_json for actors that
 * log or print).
 *
 * Maps become objects, arrays arrays, nil/bool the same, integers integers
 * except an unsigned one above INT64_MAX (jansson's integers are int64),
 * which becomes a real: 18446744073709551615 prints 1.8446744073709552e19.
 * float32/float64 become reals; bin and ext values become base64 strings
 * (RFC 4648, padded; ext loses its type byte).  A map key that is not a
 * string becomes the text of its conversion: a string's own text (bin
 * keys their base64), anything else its compact JSON (-3, true, null,
 * [1]).  NaN, infinities and strings that are not UTF-8 have no JSON form:
 * by default they are errors (TP_ETYPE, the CLI's rule: never print
 * something else than what was sent); with TP_JSON_LENIENT they become null
 * and base64 text (an actor's log line never fails on odd input).
 *
 * At most TP_JSON_DEPTH_MAX nested arrays/maps (a scalar is depth 0, [1]
 * depth 1), the broker's body limit; deeper is TP_EDEPTH.
 */
#ifndef TP_JSON_H
#define TP_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <msgpack.h>

#include "tp_err.h"

#define TP_JSON_DEPTH_MAX 16

#define TP_JSON_LENIENT	0x1u	/* bad UTF-8 -> base64, NaN/inf -> null */

/*
 * Converts a decoded object into a new JSON value.  Returns 0 with *out
 * owned by the caller (json_decref), or TP_EDEPTH, TP_ETYPE, TP_ENOMEM
 * with err (may be NULL) filled.
 */
int tp_json_from_object(const msgpack_object *o, unsigned flags,
    json_t **out, struct tp_err *err);

/*
 * Converts exactly one msgpack value in len untrusted bytes (through
 * tp_body_unpack: bounds-walked before msgpack-c sees them; len 0 is nil)
 * into a new JSON value.  Returns as tp_json_from_object, or the unpack
 * errors (TP_ETRAILING for bytes after the value).
 */
int tp_json_from_msgpack(const void *buf, size_t len, unsigned flags,
    json_t **out, struct tp_err *err);

/*
 * Dumps j as compact JSON in document order (any top-level type).  Reals
 * get the fewest significant digits that read back as the same doubles
 * (one precision for the whole document, the largest any real needs):
 * 3.5, 0.1, 1e300.  Returns a malloc'd string the caller frees, or NULL
 * (no memory).
 */
char *tp_json_dump(const json_t *j);

#endif

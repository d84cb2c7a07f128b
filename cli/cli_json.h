/*
 * cli_json — JSON text <-> msgpack bytes for the troupe CLI, with jansson
 * and msgpack-c (never by hand).
 *
 * JSON -> msgpack: objects become maps with str keys (in document order),
 * arrays arrays, strings str, integers int64 (negative ones msgpack ints),
 * reals float64, true/false/null the same.
 *
 * msgpack -> JSON: maps with a non-string key get the key stringified
 * (integers in decimal, floats like reals, nil "null", booleans
 * "true"/"false", bin/ext base64, arrays/maps as their compact JSON);
 * bin and ext values become base64 strings (RFC 4648, padded; ext loses its
 * type byte); float32/float64 become reals; an unsigned integer above
 * INT64_MAX (jansson's integers are int64) becomes a real, so
 * 18446744073709551615 prints as 1.8446744073709552e19; NaN and infinities
 * (no JSON form) and strings that are not UTF-8 are errors.
 *
 * Both directions allow at most CLI_JSON_MAX_DEPTH nested arrays/maps (a
 * scalar is depth 0, [1] depth 1), the broker's body limit.
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <msgpack.h>

#include "tp_err.h"

#define CLI_JSON_MAX_DEPTH 16

/*
 * Parses one JSON document of any type (not only objects), rejecting
 * duplicate keys.  lineno, when not 0, replaces jansson's line number in
 * the message (a line read from stdin).  Returns 0 with *out owned by the
 * caller (json_decref), or TP_EINVAL with err saying
 * "invalid JSON at line L column C: <jansson text>".
 */
int cli_json_parse(const char *text, size_t lineno, json_t **out,
    struct tp_err *err);

/*
 * Packs j as one msgpack value with pk.  Returns 0, TP_EDEPTH (nesting over
 * CLI_JSON_MAX_DEPTH), TP_ETYPE or TP_ENOMEM with err filled.  j stays the
 * caller's.
 */
int cli_json_pack(msgpack_packer *pk, const json_t *j, struct tp_err *err);

/*
 * Converts j into msgpack bytes appended to sb (initialised by the
 * caller, who frees it with msgpack_sbuffer_destroy).  Returns as
 * cli_json_pack.
 */
int cli_json_to_msgpack(const json_t *j, msgpack_sbuffer *sb,
    struct tp_err *err);

/*
 * Converts an unpacked msgpack object (depth counts from 0 at o) into a new
 * JSON value.  Returns 0 with *out owned by the caller, or TP_EDEPTH,
 * TP_ETYPE, TP_ENOMEM with err filled.
 */
int cli_json_from_object(const msgpack_object *o, json_t **out,
    struct tp_err *err);

/*
 * Converts exactly one msgpack value in len untrusted bytes (bounds-walked
 * with tp_mpck before msgpack-c sees them; len 0 means nil) into a new
 * JSON value.  Returns 0 with *out owned by the caller or a TP_E* code
 * (TP_ETRAILING for bytes after the value).
 */
int cli_json_from_msgpack(const void *buf, size_t len, json_t **out,
    struct tp_err *err);

/*
 * Dumps j as compact JSON in document order (any top-level type).  Reals
 * get the fewest significant digits that read back as the same doubles
 * (one precision for the whole document, the largest any real needs):
 * 3.5, 0.1, 1e300.  Returns a malloc'd string the caller frees, or NULL
 * (no memory).
 */
char *cli_json_dump(const json_t *j);

#endif

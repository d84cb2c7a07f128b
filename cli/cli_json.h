/*
 * cli_json — JSON text <-> msgpack bytes for the troupe CLI, with jansson
 * and msgpack-c (never by hand).
 *
 * JSON -> msgpack: objects become maps with str keys (in document order),
 * arrays arrays, strings str, integers int64 (negative ones msgpack ints),
 * reals float64, true/false/null the same.
 *
 * msgpack -> JSON is transport/tp_json (see tp_json.h for every rule) in
 * its strict mode: NaN, infinities and strings that are not UTF-8 are
 * errors.
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
#include "tp_json.h"

#define CLI_JSON_MAX_DEPTH TP_JSON_DEPTH_MAX

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
 * Parses one line of stdin (n bytes at p, no newline) as one JSON
 * document, as cli_json_parse does.  An empty line or a NUL byte is bad
 * data like any other.  Returns 0 with *out the caller's, or TP_EINVAL
 * with err saying "invalid JSON at column C: <jansson text>" (the caller
 * names the line).
 */
int cli_json_parse_line(const char *p, size_t n, json_t **out,
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
 * tp_json_dump: compact JSON in document order, each real with the fewest
 * digits that read back the same.  Returns a malloc'd string the caller
 * frees, or NULL (no memory).
 */
char *cli_json_dump(const json_t *j);

#endif

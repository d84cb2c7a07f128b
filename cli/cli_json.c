#include <string.h>

#include "cli_json.h"
#include "tp_json.h"
#include "troupe.h"

int
cli_json_parse(const char *text, size_t lineno, json_t **out,
    struct tp_err *err)
{
	json_error_t jerr;
	json_t *j;

	j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &jerr);
	if (j == NULL)
		return tp_err_set(err, TP_EINVAL, "invalid JSON at line %zu "
		    "column %d: %s", lineno ? lineno : (size_t)jerr.line,
		    jerr.column, jerr.text);
	*out = j;
	return 0;
}

int
cli_json_parse_line(const char *p, size_t n, json_t **out,
    struct tp_err *err)
{
	json_error_t jerr;

	if (n == 0)
		return tp_err_set(err, TP_EINVAL, "invalid JSON: empty line");
	if (memchr(p, '\0', n) != NULL)
		return tp_err_set(err, TP_EINVAL, "invalid JSON: NUL byte");
	*out = json_loadb(p, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &jerr);
	if (*out == NULL)
		return tp_err_set(err, TP_EINVAL, "invalid JSON at column %d: "
		    "%s", jerr.column, jerr.text);
	return 0;
}

/* ---- JSON -> msgpack ---- */

/* The conversion lives in libtroupe (troupe_json_pack), shared with the
 * stdio actor shim; the CLI only words its errors. */
int
cli_json_pack(msgpack_packer *pk, const json_t *j, struct tp_err *err)
{
	int rv = troupe_json_pack(pk, j);

	if (rv == TP_EDEPTH)
		return tp_err_set(err, rv, "JSON nests deeper than %d levels",
		    CLI_JSON_MAX_DEPTH);
	if (rv == TP_EINVAL)
		return tp_err_set(err, rv, "no JSON value");
	if (rv != 0)
		return tp_err_set(err, rv, "cannot pack a value");
	return 0;
}

int
cli_json_to_msgpack(const json_t *j, msgpack_sbuffer *sb,
    struct tp_err *err)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return cli_json_pack(&pk, j, err);
}

/* ---- msgpack -> JSON: transport/tp_json, in the CLI's strict mode ---- */

int
cli_json_from_object(const msgpack_object *o, json_t **out,
    struct tp_err *err)
{
	return tp_json_from_object(o, 0, out, err);
}

int
cli_json_from_msgpack(const void *buf, size_t len, json_t **out,
    struct tp_err *err)
{
	return tp_json_from_msgpack(buf, len, 0, out, err);
}

char *
cli_json_dump(const json_t *j)
{
	return tp_json_dump(j);
}

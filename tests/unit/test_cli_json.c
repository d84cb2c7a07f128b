/*
 * cli_json: JSON text -> msgpack bytes -> JSON text must give back exactly
 * the compact input; msgpack that JSON cannot say is converted as
 * documented in cli_json.h or refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cli_json.h"

/* JSON text -> msgpack bytes -> JSON text, through cli_json only. */
static char *
round_trip(const char *in)
{
	struct tp_err err = { 0 };
	msgpack_sbuffer sb;
	json_t *j, *back;
	char *out;

	cr_assert_eq(cli_json_parse(in, 0, &j, &err), 0, "parse %s: %s", in,
	    err.e_msg);
	msgpack_sbuffer_init(&sb);
	cr_assert_eq(cli_json_to_msgpack(j, &sb, &err), 0, "%s", err.e_msg);
	json_decref(j);
	cr_assert_eq(cli_json_from_msgpack(sb.data, sb.size, &back, &err), 0,
	    "%s", err.e_msg);
	msgpack_sbuffer_destroy(&sb);
	out = cli_json_dump(back);
	json_decref(back);
	cr_assert_not_null(out);
	return out;
}

static void
expect_same(const char *in)
{
	char *out = round_trip(in);

	cr_expect_str_eq(out, in);
	free(out);
}

/* Converts the msgpack bytes built by pk's buffer to JSON text. */
static int
mp_to_text(const msgpack_sbuffer *sb, char **text, struct tp_err *err)
{
	json_t *j;
	int rv;

	if ((rv = cli_json_from_msgpack(sb->data, sb->size, &j, err)) != 0)
		return rv;
	*text = cli_json_dump(j);
	json_decref(j);
	return 0;
}

Test(cli_json, issue_example_exact)
{
	expect_same("{\"x\":[1,\"two\",{\"three\":3.5}]}");
}

Test(cli_json, key_order_kept)
{
	expect_same("{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2}}");
}

Test(cli_json, whitespace_compacted)
{
	char *out = round_trip(" { \"a\" : [ 1 , 2 ] ,\n\"b\": null } ");

	cr_expect_str_eq(out, "{\"a\":[1,2],\"b\":null}");
	free(out);
}

Test(cli_json, scalars_at_top)
{
	expect_same("42");
	expect_same("-7");
	expect_same("\"hi\"");
	expect_same("true");
	expect_same("false");
	expect_same("null");
	expect_same("2.25");
}

Test(cli_json, empty_containers)
{
	expect_same("{}");
	expect_same("[]");
	expect_same("{\"a\":{},\"b\":[],\"c\":\"\"}");
}

Test(cli_json, unicode_strings)
{
	expect_same("\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x8e\xad\"");
	expect_same("{\"\xe6\x97\xa5\xe6\x9c\xac\":\"\xd0\xb4\xd0\xb0\"}");
}

Test(cli_json, escapes_and_nul)
{
	expect_same("\"tab\\tquote\\\"nl\\n\\u0000end\"");
}

Test(cli_json, big_ints)
{
	expect_same("[9223372036854775807,-9223372036854775808,0,-1,255,"
	    "256,65536,4294967296,-129]");
}

Test(cli_json, floats_shortest)
{
	expect_same("[1e300,0.1,-2.5e-300,1.0,3.5,-0.0]");
	expect_same("0.30000000000000004");
	expect_same("1.7976931348623157e308");
	expect_same("5e-324");
}

/* One precision per document: the largest any real needs (jansson has no
 * per-value precision); every real still reads back as the same double. */
Test(cli_json, floats_share_precision)
{
	char *out = round_trip("[0.5,0.1,0.30000000000000004]");
	json_t *j;
	struct tp_err err = { 0 };

	cr_expect_str_eq(out, "[0.5,0.10000000000000001,"
	    "0.30000000000000004]");
	cr_assert_eq(cli_json_parse(out, 0, &j, &err), 0);
	cr_expect_eq(json_real_value(json_array_get(j, 1)), 0.1);
	json_decref(j);
	free(out);
}

Test(cli_json, nesting_16_ok_17_rejected)
{
	char deep[64] = "", more[80];
	struct tp_err err = { 0 };
	msgpack_sbuffer sb;
	json_t *j;
	int i;

	for (i = 0; i < 16; i++)
		strcat(deep, "[");
	strcat(deep, "1");
	for (i = 0; i < 16; i++)
		strcat(deep, "]");
	expect_same(deep);
	snprintf(more, sizeof(more), "[%s]", deep);
	cr_assert_eq(cli_json_parse(more, 0, &j, &err), 0);
	msgpack_sbuffer_init(&sb);
	cr_expect_eq(cli_json_to_msgpack(j, &sb, &err), TP_EDEPTH);
	cr_expect(strstr(err.e_msg, "16") != NULL, "%s", err.e_msg);
	json_decref(j);
	msgpack_sbuffer_destroy(&sb);
}

Test(cli_json, msgpack_depth_17_rejected)
{
	struct tp_err err = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *j;
	int i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < 17; i++)
		msgpack_pack_array(&pk, 1);
	msgpack_pack_nil(&pk);
	cr_expect_eq(cli_json_from_msgpack(sb.data, sb.size, &j, &err),
	    TP_EDEPTH);
	msgpack_sbuffer_destroy(&sb);
}

Test(cli_json, bad_json_line_column)
{
	struct tp_err err = { 0 };
	json_t *j = NULL;

	cr_assert_eq(cli_json_parse("{bad", 0, &j, &err), TP_EINVAL);
	cr_expect_null(j);
	cr_expect(strncmp(err.e_msg, "invalid JSON at line 1 column ", 30)
	    == 0, "%s", err.e_msg);
	cr_assert_eq(cli_json_parse("[1,\n 2,\n x]", 0, &j, &err),
	    TP_EINVAL);
	cr_expect(strstr(err.e_msg, "line 3 column") != NULL, "%s",
	    err.e_msg);
	cr_assert_eq(cli_json_parse("[x]", 41, &j, &err), TP_EINVAL);
	cr_expect(strstr(err.e_msg, "line 41 column 2") != NULL, "%s",
	    err.e_msg);
}

Test(cli_json, duplicate_keys_rejected)
{
	struct tp_err err = { 0 };
	json_t *j;

	cr_expect_eq(cli_json_parse("{\"a\":1,\"a\":2}", 0, &j, &err),
	    TP_EINVAL);
}

Test(cli_json, integer_keys_and_bin)
{
	struct tp_err err = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char *text;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_int(&pk, -3);
	msgpack_pack_bin_with_body(&pk, "\x00\xff\x10", 3);
	msgpack_pack_true(&pk);
	msgpack_pack_nil(&pk);
	msgpack_pack_nil(&pk);
	msgpack_pack_ext_with_body(&pk, "abc", 3, 7);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_float(&pk, 0.5f);
	cr_assert_eq(mp_to_text(&sb, &text, &err), 0, "%s", err.e_msg);
	cr_expect_str_eq(text, "{\"-3\":\"AP8Q\",\"true\":null,"
	    "\"null\":\"YWJj\",\"[1]\":0.5}");
	free(text);
	msgpack_sbuffer_destroy(&sb);
}

Test(cli_json, uint64_above_int64_is_real)
{
	struct tp_err err = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char *text;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	msgpack_pack_uint64(&pk, INT64_MAX);
	cr_assert_eq(mp_to_text(&sb, &text, &err), 0, "%s", err.e_msg);
	cr_expect_str_eq(text, "[1.8446744073709552e19,9223372036854775807]");
	free(text);
	msgpack_sbuffer_destroy(&sb);
}

Test(cli_json, nan_and_bad_utf8_refused)
{
	struct tp_err err = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *j;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_double(&pk, 0.0 / 0.0);
	cr_expect_eq(cli_json_from_msgpack(sb.data, sb.size, &j, &err),
	    TP_ETYPE);
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_str_with_body(&pk, "\xff\xfe", 2);
	cr_expect_eq(cli_json_from_msgpack(sb.data, sb.size, &j, &err),
	    TP_ETYPE);
	msgpack_sbuffer_destroy(&sb);
}

Test(cli_json, hostile_bytes_refused_without_alloc)
{
	static const uint8_t huge_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t trailing[] = { 0x01, 0x02 };
	struct tp_err err = { 0 };
	json_t *j;

	cr_expect_neq(cli_json_from_msgpack(huge_map, sizeof(huge_map), &j,
	    &err), 0);
	cr_expect_eq(cli_json_from_msgpack(trailing, sizeof(trailing), &j,
	    &err), TP_ETRAILING);
	cr_assert_eq(cli_json_from_msgpack("", 0, &j, &err), 0);
	cr_expect(json_is_null(j));
}

/*
 * Unit tests for troupe_json_pack / troupe_body_json (libtroupe's JSON ->
 * msgpack, shared by troupe-stdio and the CLI): round trip through
 * troupe_obj_json, the depth limit, and errors that stick in the builder.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "troupe.h"

static char *
round_trip(const char *text)
{
	struct troupe_body b;
	msgpack_unpacked up;
	json_t *in = json_loads(text, JSON_DECODE_ANY, NULL);
	char *out = NULL;

	cr_assert_not_null(in, "bad test JSON %s", text);
	troupe_body_init(&b);
	cr_assert_eq(troupe_body_json(&b, in), 0);
	msgpack_unpacked_init(&up);
	cr_assert_eq(msgpack_unpack_next(&up, troupe_body_data(&b),
	    troupe_body_len(&b), NULL), MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(troupe_obj_to_json(&up.data, &out), 0);
	msgpack_unpacked_destroy(&up);
	troupe_body_free(&b);
	json_decref(in);
	return out;
}

Test(body_json, round_trips)
{
	static const char *const docs[] = { "{\"a\":[1,-2,3.5,\"x\"],"
	    "\"b\":{\"c\":null,\"d\":true,\"e\":false}}", "\"s\"", "[]",
	    "{}", "-9223372036854775808" };

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *out = round_trip(docs[i]);

		cr_expect_str_eq(out, docs[i]);
		free(out);
	}
}

Test(body_json, depth_limit_sticks)
{
	char deep[64] = "", ok[64] = "";
	struct troupe_body b;
	json_t *j;

	for (int i = 0; i < 17; i++)
		strcat(deep, "[");
	for (int i = 0; i < 17; i++)
		strcat(deep, "]");
	memcpy(ok, deep + 1, 32);	/* 16 levels */
	troupe_body_init(&b);
	cr_assert_not_null(j = json_loads(ok, 0, NULL));
	cr_expect_eq(troupe_body_json(&b, j), 0);
	json_decref(j);
	cr_assert_not_null(j = json_loads(deep, 0, NULL));
	cr_expect_eq(troupe_body_json(&b, j), TP_EDEPTH);
	cr_expect_eq(troupe_body_error(&b), TP_EDEPTH);
	cr_expect_eq(troupe_body_int(&b, 1), TP_EDEPTH);
	json_decref(j);
	cr_expect_eq(troupe_json_pack(&b.b_pk, NULL), TP_EINVAL);
	troupe_body_free(&b);
}

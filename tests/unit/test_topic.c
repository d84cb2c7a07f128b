/*
 * test_topic — topic names and patterns: the grammar's edges (lengths,
 * word counts, empty words, bytes outside a word, misplaced wildcards),
 * the matcher's table and the config list splitter.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tp_topic.h"

static bool
name_ok(const char *s)
{
	return tp_topic_name_ok(s, strlen(s));
}

static bool
pattern_ok(const char *s)
{
	return tp_topic_pattern_ok(s, strlen(s));
}

static bool
match(const char *pat, const char *topic)
{
	return tp_topic_match(pat, strlen(pat), topic, strlen(topic));
}

/* "w.w.w..." of n one-byte words: 2n - 1 bytes. */
static size_t
words(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = 'w';
		buf[2 * i + 1] = '.';
	}
	buf[2 * n - 1] = '\0';
	return 2 * n - 1;
}

static const char *const good_names[] = {
	"a", "orders", "orders.eu", "a.b.c", "A-Z_09", "x-1.y_2.Z3",
	"0", "-", "_", "a.-.b",
};

static const char *const bad_names[] = {
	"", ".", "..", ".a", "a.", "a..b", "a b", " a", "a ", "a@b", "a#b",
	"a,b", "a/b", "a:b", "a\tb", "a\nb", "é", "*", ">", "a.*", "a.>",
	"a*", "b>", "a.*b",
};

Test(topic, good_names)
{
	for (size_t i = 0; i < sizeof(good_names) / sizeof(*good_names); i++) {
		cr_assert(name_ok(good_names[i]), "'%s' refused",
		    good_names[i]);
		cr_assert(pattern_ok(good_names[i]), "name '%s' no pattern",
		    good_names[i]);
	}
}

Test(topic, bad_names)
{
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++)
		cr_assert(!name_ok(bad_names[i]), "'%s' taken", bad_names[i]);
}

Test(topic, name_length_limit)
{
	char buf[TP_TOPIC_MAX + 2];

	memset(buf, 'a', sizeof(buf));
	cr_assert(tp_topic_name_ok(buf, TP_TOPIC_MAX));
	cr_assert(tp_topic_pattern_ok(buf, TP_TOPIC_MAX));
	cr_assert(!tp_topic_name_ok(buf, TP_TOPIC_MAX + 1));
	cr_assert(!tp_topic_pattern_ok(buf, TP_TOPIC_MAX + 1));
	cr_assert(!tp_topic_name_ok(buf, 0));
	cr_assert(!tp_topic_pattern_ok(buf, 0));
}

Test(topic, word_count_limit)
{
	char buf[2 * (TP_TOPIC_WORDS + 1)];
	size_t n;

	n = words(buf, TP_TOPIC_WORDS);
	cr_assert(tp_topic_name_ok(buf, n));
	cr_assert(tp_topic_pattern_ok(buf, n));
	n = words(buf, TP_TOPIC_WORDS + 1);
	cr_assert(!tp_topic_name_ok(buf, n), "33 words taken");
	cr_assert(!tp_topic_pattern_ok(buf, n), "33 words taken");
	buf[n - 1] = '>';
	cr_assert(!tp_topic_pattern_ok(buf, n), "33 words ending in >");
}

/* Counted strings: a NUL is a byte like '@', and nothing past len is
 * read into the name. */
Test(topic, counted_not_terminated)
{
	cr_assert(!tp_topic_name_ok("a\0b", 3));
	cr_assert(tp_topic_name_ok("a.b.", 3));
	cr_assert(!tp_topic_name_ok("a.b.", 4));
	cr_assert(tp_topic_pattern_ok("a.>x", 3));
	cr_assert(tp_topic_match("a.*x", 3, "a.bzz", 3));
	cr_assert(!tp_topic_match("a.b", 3, "a.bc", 4));
}

static const char *const good_patterns[] = {
	"*", ">", "*.*", "*.>", "a.*", "a.>", "*.a", "a.*.b", "a.*.>",
	"*.*.>",
};

static const char *const bad_patterns[] = {
	"", ".", ".*", "*.", "a..*", ">.a", "a.>.b", ">.>", "a*", "*a", "b>",
	">b", "**", ">>", "a.b>", "a.*b", "* ", " *", "a.#", "a.@", "a,b",
	"a. b",
};

Test(topic, good_patterns)
{
	for (size_t i = 0; i < sizeof(good_patterns) / sizeof(*good_patterns);
	    i++)
		cr_assert(pattern_ok(good_patterns[i]), "'%s' refused",
		    good_patterns[i]);
}

Test(topic, bad_patterns)
{
	for (size_t i = 0; i < sizeof(bad_patterns) / sizeof(*bad_patterns);
	    i++)
		cr_assert(!pattern_ok(bad_patterns[i]), "'%s' taken",
		    bad_patterns[i]);
}

struct m {
	const char	*m_pat;
	const char	*m_topic;
	bool		 m_match;
};

static const struct m table[] = {
	/* exact */
	{ "a", "a", true },
	{ "a.b.c", "a.b.c", true },
	{ "a.b.c", "a.b.d", false },
	{ "a.b", "a.b.c", false },
	{ "a.b.c", "a.b", false },
	/* no prefix false positives, either side */
	{ "a", "ab", false },
	{ "ab", "a", false },
	{ "a.b", "a.bc", false },
	{ "a.bc", "a.b", false },
	{ "a.b", "ab", false },
	{ "a.b", "a", false },
	/* '*' is exactly one word */
	{ "*", "a", true },
	{ "*", "a.b", false },
	{ "a.*", "a.b", true },
	{ "a.*", "a", false },
	{ "a.*", "a.b.c", false },
	{ "a.*", "b.c", false },
	{ "*.b", "a.b", true },
	{ "*.b", "a.c", false },
	{ "a.*.c", "a.b.c", true },
	{ "a.*.c", "a.c", false },
	{ "a.*.c", "a.b.b.c", false },
	{ "*.*", "a.b", true },
	{ "*.*", "a", false },
	{ "*.*", "a.b.c", false },
	/* '>' is one or more words */
	{ "a.>", "a.b", true },
	{ "a.>", "a.b.c", true },
	{ "a.>", "a", false },
	{ "a.>", "ab.c", false },
	{ "a.>", "b.a.c", false },
	{ "a.b.>", "a.b.c.d.e", true },
	{ "a.b.>", "a.c.d", false },
	/* '*.>': at least two words */
	{ "*.>", "a", false },
	{ "*.>", "a.b", true },
	{ "*.>", "a.b.c", true },
	{ "a.*.>", "a.b", false },
	{ "a.*.>", "a.b.c", true },
	/* '>' alone: every topic */
	{ ">", "a", true },
	{ ">", "a.b", true },
	{ ">", "x-1.y_2.Z3.q", true },
};

Test(topic, match_table)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		const struct m *t = &table[i];

		cr_assert(pattern_ok(t->m_pat), "'%s'", t->m_pat);
		cr_assert(name_ok(t->m_topic), "'%s'", t->m_topic);
		cr_assert_eq(match(t->m_pat, t->m_topic), t->m_match,
		    "'%s' vs '%s': want %s", t->m_pat, t->m_topic,
		    t->m_match ? "match" : "no match");
	}
}

Test(topic, name_matches_itself)
{
	for (size_t i = 0; i < sizeof(good_names) / sizeof(*good_names); i++)
		cr_assert(match(good_names[i], good_names[i]), "'%s'",
		    good_names[i]);
}

Test(topic, match_at_the_limits)
{
	char buf[2 * TP_TOPIC_WORDS], pat[2 * TP_TOPIC_WORDS];
	size_t n;

	n = words(buf, TP_TOPIC_WORDS);
	memcpy(pat, buf, n + 1);
	cr_assert(match(pat, buf));
	pat[0] = '*';
	cr_assert(match(pat, buf));
	pat[n - 1] = '>';
	cr_assert(match(pat, buf));
	pat[n - 1] = 'x';
	cr_assert(!match(pat, buf));
}

struct items {
	char	i_buf[256];
	size_t	i_n;
	int	i_stop_at;
};

/* Joins the items with '|' so that one string says what was given. */
static int
collect(void *arg, const char *p, size_t n)
{
	struct items *it = arg;
	size_t used = strlen(it->i_buf);

	snprintf(it->i_buf + used, sizeof(it->i_buf) - used, "%s%.*s",
	    used > 0 ? "|" : "", (int)n, p);
	if (++it->i_n == (size_t)it->i_stop_at)
		return 7;
	return 0;
}

static int
list(const char *s, struct items *it, size_t *bad)
{
	memset(it->i_buf, 0, sizeof(it->i_buf));
	it->i_n = 0;
	*bad = 999;
	return tp_topic_list(s, strlen(s), collect, it, bad);
}

Test(topic, list_items_and_blanks)
{
	struct items it = { .i_stop_at = 0 };
	size_t bad;

	cr_assert_eq(list("orders.*, audit ,x.>", &it, &bad), 0);
	cr_assert_str_eq(it.i_buf, "orders.*|audit|x.>");
	cr_assert_eq(list("a", &it, &bad), 0);
	cr_assert_str_eq(it.i_buf, "a");
	cr_assert_eq(list(" \ta\t,\tb ", &it, &bad), 0);
	cr_assert_str_eq(it.i_buf, "a|b");
	cr_assert_eq(bad, 999, "bad_off set on success");
}

Test(topic, list_empty_has_no_items)
{
	struct items it = { .i_stop_at = 0 };
	size_t bad;

	cr_assert_eq(list("", &it, &bad), 0);
	cr_assert_eq(it.i_n, 0);
	cr_assert_eq(list(" \t ", &it, &bad), 0);
	cr_assert_eq(it.i_n, 0);
	cr_assert_eq(tp_topic_list(NULL, 0, collect, &it, NULL), 0);
}

struct bad_list {
	const char	*b_list;
	size_t		 b_off;
	size_t		 b_given;
};

static const struct bad_list bad_lists[] = {
	{ "a,,b", 2, 1 },
	{ "a, ,b", 2, 1 },
	{ "a,", 2, 1 },
	{ "a, ", 2, 1 },
	{ ",a", 0, 0 },
	{ " ,a", 0, 0 },
	{ "a, b c", 3, 1 },
	{ "a,  a..b", 4, 1 },
	{ "a.*,b>,c", 4, 1 },
	{ "x, y, #z", 6, 2 },
	{ "a.>.b", 0, 0 },
	{ "ok,a@b", 3, 1 },
};

Test(topic, list_bad_item_offset)
{
	struct items it = { .i_stop_at = 0 };
	size_t bad;

	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(*bad_lists); i++) {
		const struct bad_list *b = &bad_lists[i];

		cr_assert_eq(list(b->b_list, &it, &bad), -1, "'%s'",
		    b->b_list);
		cr_assert_eq(bad, b->b_off, "'%s': offset %zu, want %zu",
		    b->b_list, bad, b->b_off);
		cr_assert_eq(it.i_n, b->b_given, "'%s': %zu items given",
		    b->b_list, it.i_n);
	}
	cr_assert_eq(tp_topic_list("a,,b", 4, collect, &it, NULL), -1);
}

Test(topic, list_callback_stops)
{
	struct items it = { .i_stop_at = 2 };
	size_t bad;

	cr_assert_eq(list("a, b, c, ,", &it, &bad), 7);
	cr_assert_str_eq(it.i_buf, "a|b");
	cr_assert_eq(bad, 999);
}

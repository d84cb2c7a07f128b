/*
 * fuzz_topic — libFuzzer harness for tp_topic: the checks, the matcher
 * and the list splitter against reference versions written the plain
 * way (split into word arrays, compare).
 *
 * The input is a pattern and a topic split at the first 0 byte (no 0: the
 * whole input is the pattern, the topic empty).  Properties besides "no
 * crash": both checks agree with the reference grammar; a valid name is
 * a valid pattern and matches itself; when both sides are valid the
 * matcher agrees with the reference matcher; a topic built from a valid
 * pattern (each "*" a word, ">" two words) matches it; the list splitter,
 * run over the pattern side as a config list, gives only valid items
 * that lie inside the input, and a failure's offset lies inside it too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 255 bytes of dots are 256 empty words. */
#define REF_WORDS (TP_TOPIC_MAX + 1)

struct word {
	const char	*w_p;
	size_t		 w_n;
};

static void
fuzz_fail(const char *what, const char *p, size_t plen, const char *t,
    size_t tlen)
{
	fprintf(stderr, "fuzz_topic: %s: '%.*s' '%.*s'\n", what, (int)plen,
	    p, (int)tlen, t);
	abort();
}

/* Every word, empty ones too; returns the count, or 0 past max. */
static size_t
split(const char *s, size_t len, struct word *w, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (n == max)
			return 0;
		w[n].w_p = s + start;
		w[n].w_n = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static bool
is(const struct word *w, const char *lit)
{
	return w->w_n == strlen(lit) && memcmp(w->w_p, lit, w->w_n) == 0;
}

static bool
ref_word(const struct word *w)
{
	if (w->w_n == 0)
		return false;
	for (size_t i = 0; i < w->w_n; i++) {
		char c = w->w_p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool
ref_ok(const char *s, size_t len, bool wild)
{
	struct word w[REF_WORDS];
	size_t n;

	if (len == 0 || len > TP_TOPIC_MAX)
		return false;
	n = split(s, len, w, REF_WORDS);
	if (n == 0 || n > TP_TOPIC_WORDS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (wild && is(&w[i], "*"))
			continue;
		if (wild && i == n - 1 && is(&w[i], ">"))
			continue;
		if (!ref_word(&w[i]))
			return false;
	}
	return true;
}

static bool
ref_match(const char *p, size_t plen, const char *t, size_t tlen)
{
	struct word pw[TP_TOPIC_WORDS], tw[TP_TOPIC_WORDS];
	size_t pn, tn;

	pn = split(p, plen, pw, TP_TOPIC_WORDS);
	tn = split(t, tlen, tw, TP_TOPIC_WORDS);
	for (size_t i = 0; i < pn; i++) {
		if (is(&pw[i], ">"))
			return tn > i;
		if (i >= tn)
			return false;
		if (!is(&pw[i], "*") && (pw[i].w_n != tw[i].w_n ||
		    memcmp(pw[i].w_p, tw[i].w_p, pw[i].w_n) != 0))
			return false;
	}
	return pn == tn;
}

static void
check_grammar(const char *s, size_t len)
{
	bool name = tp_topic_name_ok(s, len);
	bool pat = tp_topic_pattern_ok(s, len);

	if (name != ref_ok(s, len, false))
		fuzz_fail("name check disagrees", s, len, "", 0);
	if (pat != ref_ok(s, len, true))
		fuzz_fail("pattern check disagrees", s, len, "", 0);
	if (name && !pat)
		fuzz_fail("a name is no pattern", s, len, "", 0);
	if (name && !tp_topic_match(s, len, s, len))
		fuzz_fail("a name does not match itself", s, len, s, len);
}

/* "*" -> "x", ">" -> "y.z": a name the pattern must match, when it
 * still fits. */
static void
check_derived(const char *p, size_t plen)
{
	char t[2 * TP_TOPIC_MAX];
	size_t tlen = 0;

	for (size_t i = 0; i < plen; i++) {
		if (p[i] == '*')
			t[tlen++] = 'x';
		else if (p[i] == '>') {
			memcpy(t + tlen, "y.z", 3);
			tlen += 3;
		} else
			t[tlen++] = p[i];
	}
	if (!tp_topic_name_ok(t, tlen))
		return;
	if (!tp_topic_match(p, plen, t, tlen))
		fuzz_fail("a derived topic does not match", p, plen, t, tlen);
	if (!ref_match(p, plen, t, tlen))
		fuzz_fail("reference refuses a derived topic", p, plen, t,
		    tlen);
}

struct list {
	const char	*l_lo;
	const char	*l_hi;
};

static int
list_item(void *arg, const char *p, size_t n)
{
	struct list *l = arg;

	if (p < l->l_lo || p + n > l->l_hi)
		fuzz_fail("a list item lies outside the input", p, 0, "", 0);
	if (!tp_topic_pattern_ok(p, n))
		fuzz_fail("a list item is no pattern", p, n, "", 0);
	return 0;
}

static void
check_list(const char *s, size_t len)
{
	struct list l = { s, s + len };
	size_t bad = SIZE_MAX;

	if (tp_topic_list(s, len, list_item, &l, &bad) == -1 && bad > len)
		fuzz_fail("a bad item's offset lies outside", s, len, "", 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *t, *zero;
	size_t plen, tlen;

	zero = memchr(p, 0, size);
	plen = zero == NULL ? size : (size_t)(zero - p);
	t = zero == NULL ? p + size : zero + 1;
	tlen = zero == NULL ? 0 : size - plen - 1;
	check_grammar(p, plen);
	check_grammar(t, tlen);
	check_list(p, plen);
	if (tp_topic_pattern_ok(p, plen)) {
		check_derived(p, plen);
		if (tp_topic_name_ok(t, tlen) &&
		    tp_topic_match(p, plen, t, tlen) !=
		    ref_match(p, plen, t, tlen))
			fuzz_fail("matcher disagrees", p, plen, t, tlen);
	}
	return 0;
}

/*
 * tp_topic — topic names, subscription patterns, the matcher and the
 * config list splitter.
 */
#include <string.h>

#include "tp_topic.h"

/* Spelled out rather than isalnum(): the locale must not widen a name. */
static bool
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* The length of the word at s[off]: up to its '.' or the end. */
static size_t
word_len(const char *s, size_t len, size_t off)
{
	const char *dot = memchr(s + off, '.', len - off);

	return dot == NULL ? len - off : (size_t)(dot - (s + off));
}

static bool
word_ok(const char *w, size_t n, bool wild, bool last)
{
	if (wild && n == 1 && (w[0] == '*' || (w[0] == '>' && last)))
		return true;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!word_byte((unsigned char)w[i]))
			return false;
	return true;
}

/* One walk for both grammars, so that a name is a pattern by
 * construction: wild only adds the "*" and last ">" words.  A trailing
 * '.' leaves an empty last word, which word_ok refuses. */
static bool
check(const char *s, size_t len, bool wild)
{
	size_t off = 0, n, words = 0;

	if (len == 0 || len > TP_TOPIC_MAX)
		return false;
	for (;;) {
		n = word_len(s, len, off);
		if (++words > TP_TOPIC_WORDS ||
		    !word_ok(s + off, n, wild, off + n == len))
			return false;
		off += n;
		if (off == len)
			return true;
		off++;
	}
}

bool
tp_topic_name_ok(const char *s, size_t len)
{
	return check(s, len, false);
}

bool
tp_topic_pattern_ok(const char *s, size_t len)
{
	return check(s, len, true);
}

/* Word by word, each byte looked at a bounded number of times.  Valid
 * inputs have no trailing '.', so stepping past a word and its '.' puts
 * an offset beyond its length exactly after the last word: both ends
 * reached together is a match, one before the other is not, except a
 * ">" that still has at least one topic word to take. */
bool
tp_topic_match(const char *pat, size_t plen, const char *topic,
    size_t tlen)
{
	size_t po = 0, to = 0, pn, tn;

	while (po < plen && to < tlen) {
		pn = word_len(pat, plen, po);
		tn = word_len(topic, tlen, to);
		if (pn == 1 && pat[po] == '>')
			return true;
		if (!(pn == 1 && pat[po] == '*') && (pn != tn ||
		    memcmp(pat + po, topic + to, pn) != 0))
			return false;
		po += pn + 1;
		to += tn + 1;
	}
	return po >= plen && to >= tlen;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Narrows [*a, *b) to the item without its blanks. */
static void
trim(const char *s, size_t *a, size_t *b)
{
	while (*a < *b && blank(s[*a]))
		(*a)++;
	while (*b > *a && blank(s[*b - 1]))
		(*b)--;
}

/* An unset config key and "" mean the same: no items, not one empty
 * item. */
static bool
only_blanks(const char *s, size_t len)
{
	size_t a = 0, b = len;

	trim(s, &a, &b);
	return a == b;
}

int
tp_topic_list(const char *s, size_t len,
    int (*fn)(void *arg, const char *p, size_t n), void *arg,
    size_t *bad_off)
{
	const char *comma;
	size_t off = 0, end, a, b;
	int rv;

	if (only_blanks(s, len))
		return 0;
	for (;;) {
		comma = memchr(s + off, ',', len - off);
		end = comma == NULL ? len : (size_t)(comma - s);
		a = off;
		b = end;
		trim(s, &a, &b);
		if (a == b || !tp_topic_pattern_ok(s + a, b - a)) {
			if (bad_off != NULL)
				*bad_off = a == b ? off : a;
			return -1;
		}
		if ((rv = fn(arg, s + a, b - a)) != 0)
			return rv;
		if (end == len)
			return 0;
		off = end + 1;
	}
}

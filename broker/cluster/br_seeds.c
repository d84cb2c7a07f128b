/*
 * br_seeds — seed addresses, their answers, the backed-off warning and
 * the `troupe nodes` rows of seeds still being tried.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "br_log.h"
#include "br_seeds.h"

/* The same tokens, in the same order, as br_resolv's slots: a resolved
 * address's seed index names its spec here. */
void
br_seeds_init(struct br_seeds *ss, const char *seeds, uint64_t now)
{
	char buf[4096], *save = NULL, *tok;

	memset(ss, 0, sizeof(*ss));
	snprintf(buf, sizeof(buf), "%s", seeds);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL &&
	    ss->ss_nspec < BR_SEEDS_MAX_SPECS;
	    tok = strtok_r(NULL, ", ", &save))
		snprintf(ss->ss_spec[ss->ss_nspec++], BR_ENDPOINT_MAX, "%s",
		    tok);
	ss->ss_start_ms = now;
	ss->ss_backoff_ms = BR_SEEDS_BACKOFF_MS;
}

static bool
same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr &&
	    a->sin_port == b->sin_port;
}

static struct br_seed_addr *
find(struct br_seeds *ss, const struct sockaddr_in *sa)
{
	for (uint32_t i = 0; i < ss->ss_naddr; i++)
		if (same_addr(&ss->ss_addr[i].sa_addr, sa))
			return &ss->ss_addr[i];
	return NULL;
}

void
br_seeds_replace(struct br_seeds *ss, const struct sockaddr_in *addrs,
    const uint32_t *src, uint32_t n)
{
	struct br_seed_addr next[BR_SEEDS_MAX_ADDRS], *old;

	if (n > BR_SEEDS_MAX_ADDRS)
		n = BR_SEEDS_MAX_ADDRS;
	for (uint32_t i = 0; i < n; i++) {
		if (src[i] >= ss->ss_nspec)
			return;		/* not the seeds we split: keep ours */
		memset(&next[i], 0, sizeof(next[i]));
		next[i].sa_addr = addrs[i];
		next[i].sa_spec = src[i];
		if ((old = find(ss, &addrs[i])) != NULL) {
			next[i].sa_heard_ms = old->sa_heard_ms;
			next[i].sa_self = old->sa_self;
		}
	}
	memcpy(ss->ss_addr, next, n * sizeof(next[0]));
	ss->ss_naddr = n;
}

void
br_seeds_heard(struct br_seeds *ss, const struct sockaddr_in *from,
    bool self, uint64_t now)
{
	struct br_seed_addr *a = find(ss, from);

	if (a == NULL)
		return;
	if (self)
		a->sa_self = true;
	else
		a->sa_heard_ms = now;
}

static bool
answered(const struct br_seed_addr *a, uint64_t now, uint64_t silent_ms)
{
	return a->sa_heard_ms != 0 && now - a->sa_heard_ms <= silent_ms;
}

static bool
resolved(const struct br_seeds *ss, uint32_t spec)
{
	for (uint32_t i = 0; i < ss->ss_naddr; i++)
		if (ss->ss_addr[i].sa_spec == spec)
			return true;
	return false;
}

/* The seed that answered (NULL if none) and whether any seed is someone
 * to miss: every spec resolved to nothing but ourselves is nobody. */
static const struct br_seed_addr *
reachable(const struct br_seeds *ss, uint64_t now, uint64_t silent_ms,
    bool *others)
{
	*others = false;
	for (uint32_t i = 0; i < ss->ss_nspec; i++)
		if (!resolved(ss, i))
			*others = true;
	for (uint32_t i = 0; i < ss->ss_naddr; i++) {
		const struct br_seed_addr *a = &ss->ss_addr[i];

		if (a->sa_self)
			continue;
		*others = true;
		if (answered(a, now, silent_ms))
			return a;
	}
	return NULL;
}

static void
say_answered(struct br_seeds *ss, const struct br_seed_addr *a)
{
	char ip[INET_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET, &a->sa_addr.sin_addr, ip, sizeof(ip));
	log_info("seed answered", "seed=%s address=%s:%u",
	    ss->ss_spec[a->sa_spec], ip, ntohs(a->sa_addr.sin_port));
	ss->ss_warned = false;
}

/* The backoff is never reset: a seed that comes and goes cannot make the
 * warning frequent again. */
static void
say_unreachable(struct br_seeds *ss, uint64_t now)
{
	char list[1024] = "";
	size_t used = 0;

	for (uint32_t i = 0; i < ss->ss_nspec && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s", i ? ", " : "", ss->ss_spec[i]);
	log_warn("cannot reach any seed", "seeds=\"%s\" addresses=%u "
	    "next_report_s=%llu", list, ss->ss_naddr,
	    (unsigned long long)(ss->ss_backoff_ms / 1000));
	ss->ss_warned = true;
	ss->ss_next_warn_ms = now + ss->ss_backoff_ms;
	ss->ss_backoff_ms *= 2;
	if (ss->ss_backoff_ms > BR_SEEDS_BACKOFF_MAX_MS)
		ss->ss_backoff_ms = BR_SEEDS_BACKOFF_MAX_MS;
}

void
br_seeds_tick(struct br_seeds *ss, uint64_t now, uint64_t silent_ms)
{
	const struct br_seed_addr *a;
	bool others;

	if (ss->ss_nspec == 0)
		return;
	if ((a = reachable(ss, now, silent_ms, &others)) != NULL) {
		if (ss->ss_warned)
			say_answered(ss, a);
		return;
	}
	/* the first silent_ms after start: the resolver and the seeds'
	 * first answers get their chance */
	if (others && now - ss->ss_start_ms > silent_ms &&
	    now >= ss->ss_next_warn_ms)
		say_unreachable(ss, now);
}

static void
fill_row(struct br_seed_row *r, const char *spec,
    const struct br_seed_addr *a, uint64_t now)
{
	char ip[INET_ADDRSTRLEN] = "?";

	memset(r, 0, sizeof(*r));
	snprintf(r->sr_name, sizeof(r->sr_name), "%s", spec);
	if (a == NULL)
		return;
	inet_ntop(AF_INET, &a->sa_addr.sin_addr, ip, sizeof(ip));
	snprintf(r->sr_endpoint, sizeof(r->sr_endpoint), "udp://%s:%u", ip,
	    ntohs(a->sa_addr.sin_port));
	r->sr_heard = a->sa_heard_ms != 0;
	r->sr_age_ms = r->sr_heard ? now - a->sa_heard_ms : 0;
}

uint32_t
br_seeds_rows(const struct br_seeds *ss, uint64_t now, uint64_t silent_ms,
    struct br_seed_row *rows, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ss->ss_nspec && n < max; i++)
		if (!resolved(ss, i))
			fill_row(&rows[n++], ss->ss_spec[i], NULL, now);
	for (uint32_t i = 0; i < ss->ss_naddr && n < max; i++) {
		const struct br_seed_addr *a = &ss->ss_addr[i];

		if (!a->sa_self && !answered(a, now, silent_ms))
			fill_row(&rows[n++], ss->ss_spec[a->sa_spec], a, now);
	}
	return n;
}

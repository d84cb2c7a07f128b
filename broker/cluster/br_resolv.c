/*
 * br_resolv — asynchronous seed resolution with getaddrinfo_a.  The
 * notification function runs on a glibc thread: it touches nothing but
 * the eventfd number it was given.
 */
#define _GNU_SOURCE	/* getaddrinfo_a */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "br_resolv.h"

#define RS_MAX 16		/* seed hosts per batch */
#define RS_HOST_MAX 256

struct br_resolv {
	int		 rs_efd;
	bool		 rs_busy;
	uint32_t	 rs_n;
	char		 rs_host[RS_MAX][RS_HOST_MAX];
	char		 rs_port[RS_MAX][16];
	struct addrinfo	 rs_hints;
	struct gaicb	 rs_cb[RS_MAX];
	struct gaicb	*rs_list[RS_MAX];
};

struct br_resolv *
br_resolv_new(void)
{
	struct br_resolv *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	if ((rs->rs_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(rs);
		return NULL;
	}
	rs->rs_hints.ai_family = AF_INET;
	rs->rs_hints.ai_socktype = SOCK_DGRAM;
	return rs;
}

int
br_resolv_fd(const struct br_resolv *rs)
{
	return rs->rs_efd;
}

/* glibc thread: one write to the eventfd, nothing else. */
static void
notify(union sigval sv)
{
	uint64_t one = 1;
	ssize_t rc = write(sv.sival_int, &one, sizeof(one));

	(void)rc;
}

/* Splits seeds into the request slots; returns how many. */
static uint32_t
fill_slots(struct br_resolv *rs, const char *seeds)
{
	char buf[4096], *save = NULL, *tok, *colon;
	uint32_t n = 0;

	snprintf(buf, sizeof(buf), "%s", seeds);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL && n < RS_MAX;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((colon = strrchr(tok, ':')) == NULL ||
		    (size_t)(colon - tok) >= RS_HOST_MAX ||
		    strlen(colon + 1) >= sizeof(rs->rs_port[0]))
			continue;
		*colon = '\0';
		snprintf(rs->rs_host[n], RS_HOST_MAX, "%s", tok);
		snprintf(rs->rs_port[n], sizeof(rs->rs_port[0]), "%s",
		    colon + 1);
		memset(&rs->rs_cb[n], 0, sizeof(rs->rs_cb[n]));
		rs->rs_cb[n].ar_name = rs->rs_host[n];
		rs->rs_cb[n].ar_service = rs->rs_port[n];
		rs->rs_cb[n].ar_request = &rs->rs_hints;
		rs->rs_list[n] = &rs->rs_cb[n];
		n++;
	}
	return n;
}

int
br_resolv_start(struct br_resolv *rs, const char *seeds)
{
	struct sigevent sev;

	if (rs->rs_busy)
		return 1;
	if ((rs->rs_n = fill_slots(rs, seeds)) == 0)
		return -1;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = notify;
	sev.sigev_value.sival_int = rs->rs_efd;
	if (getaddrinfo_a(GAI_NOWAIT, rs->rs_list, (int)rs->rs_n, &sev) != 0)
		return -1;
	rs->rs_busy = true;
	return 0;
}

static bool
running(struct br_resolv *rs)
{
	for (uint32_t i = 0; i < rs->rs_n; i++)
		if (gai_error(&rs->rs_cb[i]) == EAI_INPROGRESS)
			return true;
	return false;
}

int
br_resolv_collect(struct br_resolv *rs, struct sockaddr_in *out,
    uint32_t *src, uint32_t max)
{
	uint64_t v;
	uint32_t n = 0;
	ssize_t rc = read(rs->rs_efd, &v, sizeof(v));

	(void)rc;
	if (!rs->rs_busy || running(rs))
		return -1;
	for (uint32_t i = 0; i < rs->rs_n; i++) {
		struct addrinfo *ai, *res = rs->rs_cb[i].ar_result;

		if (gai_error(&rs->rs_cb[i]) != 0)
			continue;
		for (ai = res; ai != NULL && n < max; ai = ai->ai_next)
			if (ai->ai_addrlen == sizeof(*out)) {
				if (src != NULL)
					src[n] = i;
				memcpy(&out[n++], ai->ai_addr, sizeof(*out));
			}
		freeaddrinfo(res);
		rs->rs_cb[i].ar_result = NULL;
	}
	rs->rs_busy = false;
	return (int)n;
}

void
br_resolv_free(struct br_resolv *rs)
{
	struct timespec ts = { 1, 0 };
	struct sockaddr_in tmp[1];

	if (rs == NULL)
		return;
	if (rs->rs_busy) {
		for (uint32_t i = 0; i < rs->rs_n; i++)
			gai_cancel(&rs->rs_cb[i]);
		if (running(rs))
			gai_suspend((const struct gaicb *const *)rs->rs_list,
			    (int)rs->rs_n, &ts);
		if (running(rs))
			return;		/* glibc still owns the slots */
		br_resolv_collect(rs, tmp, NULL, 0);
	}
	close(rs->rs_efd);
	free(rs);
}

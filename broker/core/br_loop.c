#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "br_log.h"
#include "br_loop.h"

#define LOOP_MAX_EVENTS 64

uint64_t
br_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
br_now_ms(void)
{
	return br_now_us() / 1000;
}

uint64_t
br_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
br_loop_init(struct br_loop *l)
{
	*l = (struct br_loop){ .l_epfd = epoll_create1(EPOLL_CLOEXEC) };
	return l->l_epfd < 0 ? -1 : 0;
}

static void
bury(struct br_loop *l)
{
	struct br_loop_ev *ev;

	while ((ev = l->l_grave) != NULL) {
		l->l_grave = ev->le_next;
		free(ev);
	}
}

void
br_loop_fini(struct br_loop *l)
{
	struct br_loop_ev *ev;

	bury(l);
	while ((ev = l->l_live) != NULL) {
		l->l_live = ev->le_live_next;
		free(ev);
	}
	if (l->l_epfd >= 0)
		close(l->l_epfd);
	l->l_epfd = -1;
}

int
br_loop_add(struct br_loop *l, int fd, br_loop_cb cb, void *arg,
    struct br_loop_ev **out)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct br_loop_ev *ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return -1;
	ev->le_fd = fd;
	ev->le_cb = cb;
	ev->le_arg = arg;
	ee.data.ptr = ev;
	if (epoll_ctl(l->l_epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
		free(ev);
		return -1;
	}
	ev->le_live_next = l->l_live;
	ev->le_live_prev = NULL;
	if (l->l_live != NULL)
		l->l_live->le_live_prev = ev;
	l->l_live = ev;
	if (out != NULL)
		*out = ev;
	return 0;
}

void
br_loop_del(struct br_loop *l, struct br_loop_ev *ev)
{
	if (ev == NULL || ev->le_dead)
		return;
	epoll_ctl(l->l_epfd, EPOLL_CTL_DEL, ev->le_fd, NULL);
	ev->le_dead = true;
	if (ev->le_live_prev != NULL)
		ev->le_live_prev->le_live_next = ev->le_live_next;
	else
		l->l_live = ev->le_live_next;
	if (ev->le_live_next != NULL)
		ev->le_live_next->le_live_prev = ev->le_live_prev;
	ev->le_next = l->l_grave;
	l->l_grave = ev;
}

void
br_loop_stop(struct br_loop *l)
{
	l->l_stop = true;
}

/*
 * Aeron's idle strategy, bounded: before sleeping in epoll_wait, look for
 * events without blocking for up to l_spin_us, yielding the core between
 * looks.  A wake-up costs about as much as the work of an ask's hop here
 * (docs/PERFORMANCE.md B2): spinning trades that CPU for latency, so it
 * is a setting, off by default.
 */
static int
spin_wait(struct br_loop *l, struct epoll_event *evs)
{
	long us = l->l_spin_us;
	struct timespec t0, t;
	int n;

	if (us == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if ((n = epoll_wait(l->l_epfd, evs, LOOP_MAX_EVENTS, 0)) != 0)
			return n;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000L +
	    (t.tv_nsec - t0.tv_nsec) / 1000 < us);
	return 0;
}

/* Level-triggered: a callback that leaves work (a budget ran out) is
 * simply called again on the next round. */
void
br_loop_run(struct br_loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n;

	while (!l->l_stop) {
		if (l->l_before_sleep != NULL)
			l->l_before_sleep(l->l_before_arg);
		n = spin_wait(l, evs);
		if (n == 0)
			n = epoll_wait(l->l_epfd, evs, LOOP_MAX_EVENTS,
			    timeout_ms);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait failed", NULL);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct br_loop_ev *ev = evs[i].data.ptr;

			if (!ev->le_dead)
				ev->le_cb(ev->le_arg);
		}
		bury(l);
	}
}

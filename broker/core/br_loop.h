/*
 * br_loop — the broker's one event loop: epoll over nng's pollable receive
 * fds, a signalfd and a periodic timerfd.  Callbacks run on the loop thread
 * only; they may add and remove fds (also their own) while dispatching.
 */
#ifndef BR_LOOP_H
#define BR_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*br_loop_cb)(void *arg);

struct br_loop_ev {
	int		 le_fd;
	br_loop_cb	 le_cb;
	void		*le_arg;
	bool		 le_dead;	/* removed; freed at a safe point */
	struct br_loop_ev *le_next;	/* on the loop's graveyard */
	struct br_loop_ev *le_live_next;	/* on the live list */
	struct br_loop_ev *le_live_prev;
};

struct br_loop {
	int		 l_epfd;
	bool		 l_stop;
	br_loop_cb	 l_before_sleep;	/* flush deferred work */
	void		*l_before_arg;
	struct br_loop_ev *l_grave;	/* removed, freed after dispatch */
	struct br_loop_ev *l_live;	/* watched, freed by br_loop_fini */
	uint32_t	 l_spin_us;	/* busy-poll this long before sleeping
					 * (node.spin_us; 0 = sleep at once) */
};

/* Creates the epoll instance.  Returns 0 or -1 with errno. */
int br_loop_init(struct br_loop *l);
/* Closes the epoll fd and frees removed events (not the fds). */
void br_loop_fini(struct br_loop *l);

/* Watches fd for readability; *out (may be NULL) gets a handle that
 * br_loop_del takes.  The loop owns the handle, not the fd. */
int br_loop_add(struct br_loop *l, int fd, br_loop_cb cb, void *arg,
    struct br_loop_ev **out);
/* Stops watching; safe inside any callback (the handle is freed only
 * after the current dispatch round). */
void br_loop_del(struct br_loop *l, struct br_loop_ev *ev);

/* Runs until br_loop_stop; timeout_ms caps each wait. */
void br_loop_run(struct br_loop *l, int timeout_ms);
void br_loop_stop(struct br_loop *l);

/* Milliseconds, microseconds on CLOCK_MONOTONIC (timers, RTTs). */
uint64_t br_now_ms(void);
uint64_t br_now_us(void);
/* Milliseconds since the epoch (timestamps other hosts read). */
uint64_t br_wall_ms(void);

#endif

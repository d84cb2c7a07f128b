/*
 * br_acl — local access control: who may talk to the control socket and
 * who may take an actor's mailbox.
 *
 * Control: every request's pipe is asked for its peer uid
 * (NNG_OPT_IPC_PEER_UID, SO_PEERCRED underneath); the broker's own uid,
 * root, node.allow_uids and members of node.allow_group pass, anyone else
 * gets ERROR 6.  File modes follow the setting so that allowed users can
 * reach the socket at all: 0700/0600 by default, 0750/0660 with the group
 * (chgrp'ed), 0711/0666 with allow_uids (then the uid check is the gate).
 * Mailboxes: only the pipe the gate admitted (br_guard.h) may send frames.
 * Loop thread only.
 */
#ifndef BR_ACL_H
#define BR_ACL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "br_conf.h"

#define BR_ACL_MAX_UIDS 64

struct br;

struct br_acl {
	uid_t		 acl_self;
	uint32_t	 acl_uids[BR_ACL_MAX_UIDS];
	size_t		 acl_nuids;
	gid_t		 acl_gid;
	bool		 acl_group;	/* allow_group set and resolved */
	uint64_t	 acl_log_ms;	/* rate limit of refusal logs */
	uint64_t	 acl_quiet;	/* refusals not logged since */
};

/*
 * Reads node.allow_uids / node.allow_group from conf and gives the run
 * dir (already created 0700 and ours) the mode they need.  Returns 0, or
 * -1 with an error logged (unknown group, chmod/chown failed).
 */
int br_acl_init(struct br_acl *acl, const struct br_conf *conf,
    const char *run_dir);

/* Mode for the control socket: 0600, 0660 (group) or 0666 (uids). */
int br_acl_sock_mode(const struct br_acl *acl);

/* Gives the listening control socket at path the allowed group; 0 or -1
 * (logged).  Nothing to do without allow_group. */
int br_acl_sock_ready(const struct br_acl *acl, const char *path);

/* Whether a peer of uid (primary gid) may use the control socket. */
bool br_acl_allowed(const struct br_acl *acl, uint64_t uid, uint64_t gid);

/*
 * Checks the sender of control request msg.  Returns false when allowed;
 * true when refused: the refusal is logged (at most once a second) and
 * why (len bytes) says "permission denied: uid N is not allowed" for the
 * caller's ERROR 6.  msg stays the caller's.
 */
bool br_acl_ctl_refuse(struct br_acl *acl, nng_msg *msg, char *why,
    size_t len);
#endif

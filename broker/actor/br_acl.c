/*
 * br_acl — peer credential checks for the control socket and mailboxes,
 * and the run dir / socket modes that go with node.allow_*.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "br_acl.h"
#include "br_log.h"
#include "br_loop.h"

#define ACL_GROUPS_MAX 256	/* supplementary groups looked at per uid */

static int
parse_uids(struct br_acl *acl, const char *s)
{
	char *end;

	while (*s != '\0') {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || acl->acl_nuids == BR_ACL_MAX_UIDS) {
			log_error("bad node.allow_uids", "value=\"%s\" max=%d",
			    s, BR_ACL_MAX_UIDS);
			return -1;
		}
		acl->acl_uids[acl->acl_nuids++] = (uint32_t)v;
		s = end + strspn(end, ", \t");
	}
	return 0;
}

static int
resolve_group(struct br_acl *acl, const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (name[0] == '\0')
		return 0;
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 ||
	    res == NULL) {
		log_error("node.allow_group names no group", "group=%s", name);
		return -1;
	}
	acl->acl_gid = gr.gr_gid;
	acl->acl_group = true;
	return 0;
}

/* Allowed users need search permission on every directory above the run
 * dir too; say so instead of leaving them with "unreachable". */
static void
warn_parent(const char *run_dir)
{
	char buf[BR_PATH_MAX];
	struct stat st;
	char *dir;

	snprintf(buf, sizeof(buf), "%s", run_dir);
	dir = dirname(buf);
	if (stat(dir, &st) == 0 && (st.st_mode & 0011) != 0011)
		log_warn("allowed users may not reach the run dir",
		    "parent=%s mode=%04o", dir,
		    (unsigned)(st.st_mode & 07777));
}

int
br_acl_init(struct br_acl *acl, const struct br_conf *conf,
    const char *run_dir)
{
	mode_t mode = 0700;

	memset(acl, 0, sizeof(*acl));
	acl->acl_self = geteuid();
	if (parse_uids(acl, conf->c_allow_uids) != 0 ||
	    resolve_group(acl, conf->c_allow_group) != 0)
		return -1;
	if (acl->acl_group && chown(run_dir, (uid_t)-1, acl->acl_gid) != 0) {
		log_error("cannot give the run dir to allow_group", "path=%s "
		    "error=\"%s\"", run_dir, strerror(errno));
		return -1;
	}
	if (acl->acl_nuids > 0)
		mode = 0711;
	else if (acl->acl_group)
		mode = 0750;
	if (chmod(run_dir, mode) != 0) {
		log_error("cannot set run dir mode", "path=%s error=\"%s\"",
		    run_dir, strerror(errno));
		return -1;
	}
	if (mode != 0700)
		warn_parent(run_dir);
	return 0;
}

int
br_acl_sock_mode(const struct br_acl *acl)
{
	if (acl->acl_nuids > 0)
		return 0666;
	return acl->acl_group ? 0660 : 0600;
}

int
br_acl_sock_ready(const struct br_acl *acl, const char *path)
{
	if (!acl->acl_group || chown(path, (uid_t)-1, acl->acl_gid) == 0)
		return 0;
	log_error("cannot give the control socket to allow_group", "path=%s "
	    "error=\"%s\"", path, strerror(errno));
	return -1;
}

/* Whether uid belongs to the allowed group through its supplementary
 * groups (the primary gid of the peer was checked already). */
static bool
in_group(const struct br_acl *acl, uint64_t uid)
{
	gid_t groups[ACL_GROUPS_MAX];
	int n = ACL_GROUPS_MAX;
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL ||
	    getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == acl->acl_gid)
			return true;
	return false;
}

bool
br_acl_allowed(const struct br_acl *acl, uint64_t uid, uint64_t gid)
{
	if (uid == acl->acl_self || uid == 0)
		return true;
	for (size_t i = 0; i < acl->acl_nuids; i++)
		if (acl->acl_uids[i] == uid)
			return true;
	return acl->acl_group && (gid == acl->acl_gid || in_group(acl, uid));
}

/* One line per second at most: a local user could otherwise fill the log
 * with refused requests. */
static void
log_refusal(struct br_acl *acl, uint64_t uid, uint64_t pid)
{
	uint64_t now = br_now_ms();

	if (acl->acl_log_ms != 0 && now - acl->acl_log_ms < 1000) {
		acl->acl_quiet++;
		return;
	}
	log_warn("control request refused: permission denied", "uid=%llu "
	    "pid=%llu suppressed=%llu", (unsigned long long)uid,
	    (unsigned long long)pid, (unsigned long long)acl->acl_quiet);
	acl->acl_log_ms = now;
	acl->acl_quiet = 0;
}

bool
br_acl_ctl_refuse(struct br_acl *acl, nng_msg *msg, char *why, size_t len)
{
	nng_pipe p = nng_msg_get_pipe(msg);
	uint64_t uid = UINT64_MAX, gid = UINT64_MAX, pid = 0;

	/* A peer whose credentials cannot be read is refused too. */
	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0) {
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_GID, &gid) != 0)
			gid = UINT64_MAX;
		if (br_acl_allowed(acl, uid, gid))
			return false;
	}
	nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid);
	log_refusal(acl, uid, pid);
	if (uid == UINT64_MAX)
		snprintf(why, len, "permission denied: cannot read the peer's "
		    "uid");
	else
		snprintf(why, len, "permission denied: uid %llu is not allowed",
		    (unsigned long long)uid);
	return true;
}

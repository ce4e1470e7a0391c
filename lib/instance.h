/* instance.h: one Postern instance on disk: its configuration directory,
 * the folders under queue_directory, data_directory and mail_store with
 * their owners and modes, and the master's pid file and lock.
 *
 * Used by the master (creates what is missing, takes the lock) and by the
 * lifecycle commands of `postern` (check, start, stop, reload, status).
 *
 * Owners: started as root, the queue folders belong to mail_owner (group
 * setgid_group where the setgid helpers must reach them) and the mailboxes
 * to mail_store_owner; started as any other user (instance mode),
 * everything belongs to that user.
 *
 * The pid file $queue_directory/pid/master.pid holds the master's pid and
 * is locked (an open-file-description fcntl lock) for as long as the
 * master runs; "running" means "locked", never "a pid file exists". The
 * status socket of the master is $queue_directory/pid/master.sock. */
#ifndef POSTERN_INSTANCE_H
#define POSTERN_INSTANCE_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"
#include "master_cf.h"
#include "str.h"

/* The users and groups of an instance, resolved once. */
struct instance_ids {
	bool root;	  /* started as root: the ids below are switched to */
	uid_t owner_uid;  /* mail_owner (or the invoking user) */
	gid_t owner_gid;  /* its primary group */
	gid_t setgid_gid; /* setgid_group (or the invoking user's group) */
	uid_t store_uid;  /* mail_store_owner (or the invoking user) */
	gid_t store_gid;
};

/* Loads DIR/main.cf and DIR/master.cf, where DIR is conf_dir(override)
 * made absolute (*dir_r, the caller frees it). mcf_r may be NULL when only
 * main.cf is wanted. Returns the conf, or NULL with *error_r. */
struct conf *instance_load(const char *override, char **dir_r,
			   struct master_cf **mcf_r, const char **error_r);

/* Resolves the users of the instance. As root, a missing user or group or
 * a mail_owner with uid 0 is an error. Returns 1 or -1 with *error_r. */
int instance_ids(struct conf *c, struct instance_ids *ids_r,
		 const char **error_r);

/* Checks every folder of the instance: missing ones are created with the
 * right owner and mode when create is true (else reported); existing ones
 * with another owner, mode or type are reported, never changed. Each
 * problem is appended to problems as one line. Returns the number of
 * problems. */
int instance_check_dirs(struct conf *c, const struct instance_ids *ids,
			bool create, struct str *problems);

/* $queue_directory/pid/master.pid and .../master.sock (caller frees). */
char *instance_pid_path(struct conf *c);
char *instance_status_path(struct conf *c);

/* Master side: opens and locks the pid file and writes the caller's pid
 * into it. Returns 1 with *fd_r (keep it open: closing it releases the
 * lock), 0 when another master holds the lock (*error_r names its pid), -1
 * on errors. */
int instance_lock(struct conf *c, int *fd_r, const char **error_r);

/* Command side: 1 when a master runs (*pid_r its pid), 0 when none does,
 * -1 when that cannot be told (*error_r). Takes no lock itself. */
int instance_running(struct conf *c, pid_t *pid_r, const char **error_r);

#endif

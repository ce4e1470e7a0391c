/* qmgr_trigger.h: wakes the queue manager. Every producer of queue files
 * (smtpd, pickup, the queue CLI) calls it after a commit, so that new mail
 * is scheduled at once instead of at qmgr's next periodic scan.
 *
 * A trigger is a connect to $queue_directory/public/qmgr (master.cf:
 * "qmgr unix n ..."), one byte, and a close; nothing is read back. */
#ifndef POSTERN_QMGR_TRIGGER_H
#define POSTERN_QMGR_TRIGGER_H

/* Trigger bytes (doc/postern-qmgr.8). */
#define QMGR_TRIGGER_WAKEUP 'W'	  /* new mail in incoming/ */
#define QMGR_TRIGGER_DEFERRED 'D' /* scan deferred/ too */
#define QMGR_TRIGGER_FORCE 'A'	  /* ignore the back-off times once */

/* Sends byte to the qmgr socket under queue_directory. Never blocks: the
 * socket is non-blocking, and a full backlog or a missing qmgr is an error
 * the caller logs and forgets (qmgr's periodic scan finds the mail).
 * Returns 1, or -1 with *error_r (static until the next call). */
int qmgr_trigger(const char *queue_directory, char byte, const char **error_r);

/* The same over one connection the process keeps (daemons that commit
 * many messages: smtpd): a byte per call, a new connection when the kept
 * one broke or has been idle for QMGR_TRIGGER_KEEP_MS (qmgr cuts idle
 * trigger connections later than that, so a byte is never written into
 * one it is closing). Not for threads. */
#define QMGR_TRIGGER_KEEP_MS 5000
int qmgr_trigger_kept(const char *queue_directory, char byte,
		      const char **error_r);

#endif

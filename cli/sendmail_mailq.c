/* sendmail_mailq.c: mailq (sendmail -bp): the queue in Postfix's long-ID
 * mailq layout, the same listing as `postern queue list` (the code is in
 * cmd_queue_list.c; doc/queue.md, "Reading"). It reads the queue
 * directly, so it needs read access to the queue folders (root or
 * $mail_owner; in instance mode the owner). */
#include "config.h"

#include "cmd_queue.h"
#include "sendmail.h"

int sm_mailq(struct conf *c)
{
	return qcmd_list(c, QCMD_LIST_MAILQ, "mailq");
}

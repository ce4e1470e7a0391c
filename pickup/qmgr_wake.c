/* qmgr_wake.c: telling qmgr about new mail in incoming/ through
 * lib/qmgr_trigger. A qmgr that is not running is no error: its periodic
 * scan finds the mail. */
#include "config.h"

#include "msg.h"
#include "pickup.h"
#include "qmgr_trigger.h"

void pickup_wake_qmgr(const struct pickup_config *cfg)
{
	const char *err;

	if (qmgr_trigger(cfg->queue_directory, QMGR_TRIGGER_WAKEUP, &err) < 0)
		msg_debug("wake qmgr: %s", err);
}

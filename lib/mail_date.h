/* mail_date.h: the RFC 5322 date-time that Date:, Received: and bounce
 * headers carry ("Thu, 26 Nov 2026 10:40:00 +0000"), in local time with its
 * numeric offset, with English names whatever the process locale. */
#ifndef POSTERN_MAIL_DATE_H
#define POSTERN_MAIL_DATE_H

#include <time.h>

#include "str.h"

/* Appends the date-time of t to out. */
void mail_date(time_t t, struct str *out);

#endif

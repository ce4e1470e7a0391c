/* t/unit/mail_date.c: tests for lib/mail_date.c. */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <time.h>

#include "mail_date.h"
#include "str.h"
#include "tap.h"

static void date_in(const char *tz, time_t t, const char *want,
		    const char *name)
{
	struct str s;

	setenv("TZ", tz, 1);
	tzset();
	str_init(&s, 0);
	mail_date(t, &s);
	is_str(s.data, want, name);
	str_deinit(&s);
}

int main(void)
{
	/* 2026-11-26 10:40:05 UTC is a Thursday */
	date_in("UTC0", 1795689605, "Thu, 26 Nov 2026 10:40:05 +0000", "UTC");
	date_in("EST5", 1795689605,
		"Thu, 26 Nov 2026 05:40:05 -0500", "negative offset");
	date_in("IST-5:30", 1795689605, "Thu, 26 Nov 2026 16:10:05 +0530",
		"offset with minutes");
	date_in("UTC0", 0, "Thu, 1 Jan 1970 00:00:00 +0000", "the epoch");
	setlocale(LC_ALL, "de_DE.UTF-8"); /* absent locales are fine too */
	date_in("UTC0", 1795689605, "Thu, 26 Nov 2026 10:40:05 +0000",
		"English names whatever the locale");
	return tap_done();
}

/* mail_date.c: RFC 5322 dates for the headers Postern writes (see
 * mail_date.h). Names come from tables, not strftime(), so a daemon's locale
 * can never put "Do, 26 Nov" into a header. */
#include "config.h"

#include "mail_date.h"

void mail_date(time_t t, struct str *out)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off, abs_off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	abs_off = off < 0 ? -off : off;
	str_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
		   days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		   off < 0 ? '-' : '+', abs_off / 60, abs_off % 60);
}

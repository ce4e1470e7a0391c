/* imap_parse_date.c: IMAP dates (SEARCH SINCE/BEFORE/ON) and date-times
 * (APPEND, INTERNALDATE), see imap_util.h. Calendar arithmetic is done here
 * on the proleptic Gregorian calendar instead of with mktime()/strptime():
 * those depend on the process's time zone and locale, and the wire format
 * must not. */
#include "config.h"

#include <stdint.h>

#include "imap_util.h"

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of y-m-d (m 1-12), valid for any year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r,
			    unsigned *d_r)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = y + (*m_r <= 2);
}

/* Reads exactly n ASCII digits at s[*pos] (a NUL stops it). */
static int read_digits(const char *s, size_t *pos, size_t n, unsigned *v_r)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[*pos];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
		(*pos)++;
	}
	*v_r = v;
	return 1;
}

static int read_char(const char *s, size_t *pos, char want)
{
	if (s[*pos] != want)
		return -1;
	(*pos)++;
	return 1;
}

/* "d-Mon-yyyy" or "dd-Mon-yyyy" (or " d-..." when space_ok) into days. */
static int parse_dmy(const char *s, size_t *pos, bool space_ok, int64_t *days_r)
{
	unsigned d, d2, m = 0, y;

	if (space_ok && s[*pos] == ' ')
		(*pos)++;
	if (read_digits(s, pos, 1, &d) < 0)
		return -1;
	if (read_digits(s, pos, 1, &d2) == 1)
		d = d * 10 + d2;
	if (read_char(s, pos, '-') < 0)
		return -1;
	for (unsigned i = 0; i < 12 && m == 0; i++)
		if (imap_ascii_ieq(s + *pos, months[i], 3))
			m = i + 1;
	if (m == 0)
		return -1;
	*pos += 3;
	if (read_char(s, pos, '-') < 0 || read_digits(s, pos, 4, &y) < 0 ||
	    d < 1 || d > month_days(y, m))
		return -1;
	*days_r = days_from_civil(y, m, d);
	return 1;
}

int imap_parse_date(const char *s, time_t *t_r)
{
	size_t pos = 0;
	int64_t days;

	if (parse_dmy(s, &pos, false, &days) < 0 || s[pos] != '\0')
		return -1;
	*t_r = (time_t)(days * 86400);
	return 1;
}

/* "+hhmm" / "-hhmm" into minutes east of UTC. */
static int parse_zone(const char *s, size_t *pos, int *tz_r)
{
	char sign = s[*pos];
	unsigned hh, mm;

	if (sign != '+' && sign != '-')
		return -1;
	(*pos)++;
	if (read_digits(s, pos, 2, &hh) < 0 ||
	    read_digits(s, pos, 2, &mm) < 0 || hh > 23 || mm > 59)
		return -1;
	*tz_r = (int)(hh * 60 + mm) * (sign == '-' ? -1 : 1);
	return 1;
}

int imap_parse_datetime(const char *s, time_t *t_r, int *tz_minutes_r)
{
	size_t pos = 0;
	int64_t days;
	unsigned hh, mm, ss;
	int tz;

	if (parse_dmy(s, &pos, true, &days) < 0 ||
	    read_char(s, &pos, ' ') < 0 || read_digits(s, &pos, 2, &hh) < 0 ||
	    read_char(s, &pos, ':') < 0 || read_digits(s, &pos, 2, &mm) < 0 ||
	    read_char(s, &pos, ':') < 0 || read_digits(s, &pos, 2, &ss) < 0 ||
	    read_char(s, &pos, ' ') < 0 || parse_zone(s, &pos, &tz) < 0 ||
	    s[pos] != '\0')
		return -1;
	if (hh > 23 || mm > 59 || ss > 60)
		return -1;
	*t_r = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss -
			(int64_t)tz * 60);
	*tz_minutes_r = tz;
	return 1;
}

void imap_format_datetime(time_t t, int tz_minutes, struct str *out)
{
	int64_t local, days, secs, y;
	unsigned m, d;
	int tz = tz_minutes > 1439    ? 1439
		 : tz_minutes < -1439 ? -1439
				      : tz_minutes;
	int abs_tz = tz < 0 ? -tz : tz;

	if (__builtin_add_overflow((int64_t)t, (int64_t)tz * 60, &local))
		local = (int64_t)t;
	days = local / 86400;
	secs = local % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	str_printf(out, "\"%02u-%s-%04lld %02u:%02u:%02u %c%02d%02d\"", d,
		   months[m - 1], (long long)y, (unsigned)(secs / 3600),
		   (unsigned)(secs / 60 % 60), (unsigned)(secs % 60),
		   tz < 0 ? '-' : '+', abs_tz / 60, abs_tz % 60);
}

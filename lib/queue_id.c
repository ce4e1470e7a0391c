/* queue_id.c: making, checking and decoding queue IDs (see queue_id.h).
 * Every producer gets its ID here through queue_writer_begin(). */
#include "config.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue_id.h"

#define QID_TIME_CHARS 11 /* 55 bits: microseconds until the year 3111 */
#define QID_PID_CHARS 5	  /* 25 bits: above Linux's pid_max of 2^22 */

static const char qid_alphabet[33] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Digit value + 1 per byte; 0 marks a byte outside the alphabet. */
static const unsigned char qid_value[256] = {
    ['0'] = 1,	['1'] = 2,  ['2'] = 3,	['3'] = 4,  ['4'] = 5,	['5'] = 6,
    ['6'] = 7,	['7'] = 8,  ['8'] = 9,	['9'] = 10, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16, ['G'] = 17, ['H'] = 18,
    ['J'] = 19, ['K'] = 20, ['M'] = 21, ['N'] = 22, ['P'] = 23, ['Q'] = 24,
    ['R'] = 25, ['S'] = 26, ['T'] = 27, ['V'] = 28, ['W'] = 29, ['X'] = 30,
    ['Y'] = 31, ['Z'] = 32,
};

/* Last time part handed out by this process (and by its parent before a
 * fork, which is harmless: the pid part differs). */
static uint64_t qid_last_usec;

static void qid_encode(uint64_t v, char *out, int chars)
{
	for (int i = chars - 1; i >= 0; i--) {
		out[i] = qid_alphabet[v & 31];
		v >>= 5;
	}
}

void queue_id_make(uint64_t usec, uint32_t pid, char id_r[QUEUE_ID_SIZE])
{
	qid_encode(usec, id_r, QID_TIME_CHARS);
	qid_encode(pid, id_r + QID_TIME_CHARS, QID_PID_CHARS);
	id_r[QUEUE_ID_LEN] = '\0';
}

void queue_id_new(char id_r[QUEUE_ID_SIZE])
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	/* Strictly increasing per process: same microsecond or a clock step
	 * back borrows the next microsecond instead of repeating one. */
	if (now <= qid_last_usec)
		now = qid_last_usec + 1;
	qid_last_usec = now;
	queue_id_make(now, (uint32_t)getpid(), id_r);
}

bool queue_id_valid_mem(const char *s, size_t len)
{
	if (len != QUEUE_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (qid_value[(unsigned char)s[i]] == 0)
			return false;
	return true;
}

bool queue_id_valid(const char *s)
{
	return s != NULL && queue_id_valid_mem(s, strnlen(s, QUEUE_ID_LEN + 1));
}

int queue_id_time(const char *id, uint64_t *usec_r)
{
	uint64_t v = 0;

	if (!queue_id_valid(id))
		return -1;
	for (int i = 0; i < QID_TIME_CHARS; i++)
		v = (v << 5) | (uint64_t)(qid_value[(unsigned char)id[i]] - 1);
	*usec_r = v;
	return 1;
}

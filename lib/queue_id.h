/* queue_id.h: queue IDs, the names of queue files (see doc/queue.md).
 *
 * An ID is 16 characters of an upper-case base-32 alphabet
 * (0-9 A-Z without I L O U, in ASCII order): 11 characters of microseconds
 * since the epoch, then 5 characters of the creating process's pid. So:
 * - IDs sorted as byte strings (ls in the C locale, strcmp) are in arrival
 *   order, and an ID is never split by case-insensitive file systems or
 *   misread by people (no I/1, O/0 confusion);
 * - two processes never make the same ID (different pids), and one process
 *   never makes the same ID twice: its time part strictly increases, even
 *   within one microsecond or across a clock step backwards;
 * - no rename after creation is needed to make the name unique, so the
 *   writer creates the file under its final name (one fewer syscall).
 * Assumes one pid namespace per queue directory. */
#ifndef POSTERN_QUEUE_ID_H
#define POSTERN_QUEUE_ID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define QUEUE_ID_LEN 16
#define QUEUE_ID_SIZE (QUEUE_ID_LEN + 1) /* with the NUL */

/* Writes a new NUL-terminated ID into id_r. Never fails. */
void queue_id_new(char id_r[QUEUE_ID_SIZE]);
/* The ID for a given time and pid (for tests and tools): usec is taken
 * modulo 2^55 and pid modulo 2^25. */
void queue_id_make(uint64_t usec, uint32_t pid, char id_r[QUEUE_ID_SIZE]);
/* True only for exactly QUEUE_ID_LEN characters of the alphabet, then NUL:
 * IDs come back from the command line, so anything else (lower case,
 * slashes, dots, padding) is refused. */
bool queue_id_valid(const char *s);
/* Same check on a buffer that need not be NUL-terminated. */
bool queue_id_valid_mem(const char *s, size_t len);
/* The creation time in microseconds since the epoch. Returns 1, or -1 when
 * id is not valid. */
int queue_id_time(const char *id, uint64_t *usec_r);

#endif

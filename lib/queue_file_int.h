/* queue_file_int.h: details of the queue file format shared by
 * queue_file.c (encoder), queue_file_read.c (decoder) and queue_writer.c.
 * Not for other modules: they use queue_file.h. */
#ifndef POSTERN_QUEUE_FILE_INT_H
#define POSTERN_QUEUE_FILE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "queue_file.h"

#define QUEUE_MAGIC "POSTERNQ"	   /* 8 bytes, no NUL on disk */
#define QUEUE_TRAILER_MAGIC "QEND" /* 4 bytes */
#define QUEUE_STATE_OFFSET 10	   /* the state flags byte in the header */
#define QUEUE_REC_HEAD 3	   /* type + u16 length */
#define QUEUE_STATE_ALL (QUEUE_STATE_WARNED | QUEUE_STATE_EXPIRE)

/* Record types (one byte; letters so that a hex dump is readable). The
 * optional string fields use queue_field_types[]. */
#define QUEUE_REC_TIME 'T'    /* u64 arrival, microseconds */
#define QUEUE_REC_SENDER 'S'  /* sender, may be empty */
#define QUEUE_REC_FLAGS 'X'   /* u32 QUEUE_MSG_* */
#define QUEUE_REC_RET 'N'     /* u8 enum queue_ret */
#define QUEUE_REC_RCPT 'R'    /* u8 status, u8 notify, address */
#define QUEUE_REC_ORCPT 'O'   /* ORCPT of the recipient just before */
#define QUEUE_REC_CONTENT 'M' /* empty; last record: the content follows */

extern const unsigned char queue_field_types[QUEUE_FIELD_COUNT];

bool queue_notify_valid(unsigned notify);
bool queue_msg_flags_valid(unsigned flags);
void queue_put_le(unsigned char *p, uint64_t v, int bytes);
uint64_t queue_get_le(const unsigned char *p, int bytes);

#endif

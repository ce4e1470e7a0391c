/* t/svc/fsync_delay.c: an LD_PRELOAD shim for tests: in a process named
 * smtpd, fsync() takes FSYNC_DELAY_MS (default 300) milliseconds longer,
 * as on a slow disk, before the real fsync() runs; other processes are not
 * slowed. Lets a test tell commits that wait for each other from commits
 * that overlap. Built without sanitizers (it is loaded into any binary). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fsync(int fd);

static bool is_smtpd(void)
{
	char comm[32] = "";
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	return n > 0 && strncmp(comm, "smtpd\n", 6) == 0;
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	const char *ms = getenv("FSYNC_DELAY_MS");
	long delay = ms != NULL ? atol(ms) : 300;
	struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};

	if (is_smtpd())
		nanosleep(&ts, NULL);
	return real(fd);
}

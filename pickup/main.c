/* main.c: the pickup daemon. A thin main() on lib/server.h
 * (SERVER_TRIGGER): woken by postdrop through $queue_directory/public/pickup
 * and by the master's wakeup timer, it moves every complete file in
 * maildrop/ into incoming/ (copy.c). At start it removes the incomplete
 * files of postdrops that died (queue_recover_incomplete). */
#include "config.h"

#include <errno.h>

#include "msg.h"
#include "pickup.h"
#include "server.h"

static struct pickup_config config;

static void pickup_scan(void)
{
	struct queue_id_list list = {0};
	const char *err;

	if (queue_dir_list(config.qd, QUEUE_MAILDROP, &list, &err) < 0) {
		msg_error("%s", err);
		return;
	}
	for (size_t i = 0; i < list.count; i++)
		if (pickup_file(&config, list.ids[i]) == PICKUP_RETRY)
			break; /* the next wakeup tries again */
	queue_id_list_free(&list);
}

static int pickup_post_init(struct server *srv, const char **error_r)
{
	struct conf *conf = server_conf(srv);
	struct queue_recover_stats stats = {0};

	config.myhostname = conf_get(conf, "myhostname");
	config.myorigin = conf_get(conf, "myorigin");
	config.mail_name = conf_get(conf, "mail_name");
	config.queue_directory = conf_get(conf, "queue_directory");
	if (queue_dir_open(conf_get(conf, "queue_directory"), &config.qd,
			   error_r) < 0)
		return -1;
	if (queue_recover_incomplete(config.qd, QUEUE_MAILDROP, &stats,
				     error_r) < 0)
		return -1;
	if (stats.discarded > 0)
		msg_info("removed %zu incomplete maildrop file%s",
			 stats.discarded, stats.discarded == 1 ? "" : "s");
	pickup_scan();
	return 1;
}

static void pickup_trigger(struct server *srv, const char *data, size_t len)
{
	(void)srv;
	(void)data;
	(void)len;
	pickup_scan();
}

static void pickup_pre_exit(struct server *srv)
{
	(void)srv;
	queue_dir_close(&config.qd);
}

int main(int argc, char **argv)
{
	static const struct server_ops ops = {
	    .kind = SERVER_TRIGGER,
	    .post_init = pickup_post_init,
	    .trigger = pickup_trigger,
	    .pre_exit = pickup_pre_exit,
	};

	return server_main(argc, argv, &ops, NULL);
}

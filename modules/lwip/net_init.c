/* Starts lwIP: the tcpip thread, with the loopback interface (127.0.0.1, ::1). */
#include <lwip/tcpip.h>
#include <lwip/netif.h>
#include <lwip/init.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <sched/mutex.h>

extern bool lwip_port_up;

static void tcpip_ready(void *arg)
{
	sem_up(arg);
}

static int lwip_start(void)
{
	struct semaphore done;
	sem_init(&done, 0);
	tcpip_init(tcpip_ready, &done);
	sem_down(&done);
	lwip_port_up = true;
	pr_info("net: lwIP " LWIP_VERSION_STRING " up, loopback 127.0.0.1 ::1\n");
	return 0;
}
INITCALL(INIT_SUBSYS, lwip_start);

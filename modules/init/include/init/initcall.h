/* Initcalls: module init functions collected at link time and run in level
 * order by init, in the first kernel thread (scheduler and timers running). */
#ifndef INIT_INITCALL_H
#define INIT_INITCALL_H

#include <lib/ktable.h>

/* Levels (a single digit, the ktable priority). */
#define INIT_CORE 1     /* core services other modules build on */
#define INIT_SUBSYS 2   /* buses, VFS, network stack */
#define INIT_DEVICE 3   /* drivers */
#define INIT_FS 4       /* filesystems, mounting the root */
#define INIT_LATE 5     /* everything else */
#define INIT_DEVNODES 6 /* nodes in the mounted /dev for devices found earlier */
#define INIT_MAIN 8     /* what the kernel runs: self-tests, the application */

struct initcall {
	const char *name;
	int (*fn)(void);    /* a negative return is reported and is fatal */
};
KTABLE_DECLARE(struct initcall, initcall);

#define INITCALL(level, fn) \
	KTABLE_ENTRY(struct initcall, initcall, level, __initcall_##fn) = { #fn, fn }

#endif

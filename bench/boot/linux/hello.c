/* /init for the Linux comparison: print, then leave QEMU the same way an osvb
 * guest does (isa-debug-exit), so both are timed from start to the same exit.
 * An external initramfs has no /dev/console, so mount devtmpfs for one. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) == 0) {
		int fd = open("/dev/console", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
	}
	puts("hello from Linux /init");
	fflush(stdout);
	tcdrain(1); /* the tty layer queues; let the UART send it before QEMU exits */
	if (ioperm(0xf4, 4, 1) == 0)
		outl(0, 0xf4);
	return 1;
}

/* /init for the Linux guest of bench/net.sh: loads the NIC's modules
 * (finit_module, in the order given), brings lo and eth0 up with the given
 * IPv4 address, then execs the server with the rest of its command line.
 *
 *   netinit --load A.ko B.ko ... --ip ADDR/LEN --exec PROGRAM ARGS...
 *
 * (not "--": Linux ends init's arguments at a second "--" on its command line)
 * Static (musl): it runs before anything else exists in the initramfs. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int if_up(int s, const char *name, const char *addr, int plen)
{
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strncpy(r.ifr_name, name, IFNAMSIZ - 1);
	if (addr) {
		struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;
		a->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &a->sin_addr) != 1 || ioctl(s, SIOCSIFADDR, &r))
			return -1;
		a->sin_addr.s_addr = htonl(plen ? 0xffffffffu << (32 - plen) : 0);
		if (ioctl(s, SIOCSIFNETMASK, &r))
			return -1;
	}
	if (ioctl(s, SIOCGIFFLAGS, &r))
		return -1;
	r.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &r);
}

int main(int argc, char **argv)
{
	int i = 1;
	char *ip = NULL;
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 01777);
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	if (i < argc && !strcmp(argv[i], "--load")) {
		for (i++; i < argc && strncmp(argv[i], "--", 2); i++) {
			int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0 || syscall(SYS_finit_module, fd, "", 0)) {
				perror(argv[i]);
				return 1;
			}
			close(fd);
		}
	}
	if (i + 1 < argc && !strcmp(argv[i], "--ip"))
		ip = argv[i + 1], i += 2;
	if (i >= argc || strcmp(argv[i], "--exec") || i + 1 >= argc || !ip || !strchr(ip, '/')) {
		fprintf(stderr, "usage: netinit [--load MODULE.ko ...] --ip ADDR/LEN --exec PROGRAM ARGS...\n");
		return 2;
	}
	*strchr(ip, '/') = 0;
	int plen = atoi(ip + strlen(ip) + 1);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || if_up(s, "lo", NULL, 0) || if_up(s, "eth0", ip, plen)) {
		perror("netinit: eth0");
		return 1;
	}
	close(s);
	execv(argv[i + 1], argv + i + 1);
	perror(argv[i + 1]);
	return 1;
}

/* For each ADDR:PORT argument (IPv4), connect, send "hi\n" and print the line
 * the server answers: "dial ADDR -> LINE". Exits 1 on the first failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "%s", argv[i]);
		char *colon = strrchr(addr, ':');
		if (!colon)
			return 2;
		*colon = 0;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
		inet_pton(AF_INET, addr, &a.sin_addr);
		int s = -1, ok = 0;
		/* The host's server may come up after the guest: retry for a while. */
		for (int t = 0; t < 100 && !ok; t++) {
			s = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
				ok = 1;
			else {
				close(s);
				usleep(100000);
			}
		}
		if (!ok) {
			printf("dial %s failed\n", addr);
			return 1;
		}
		write(s, "hi\n", 3);
		char line[128] = { 0 };
		ssize_t n = read(s, line, sizeof(line) - 1);
		if (n <= 0) {
			printf("dial %s: no answer\n", addr);
			return 1;
		}
		line[strcspn(line, "\n")] = 0;
		printf("dial %s -> %s\n", addr, line);
		close(s);
	}
	return 0;
}

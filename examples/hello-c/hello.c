/*
 * hello: prints its argument vector and environment, then exits with the
 * status given as its first argument (0 when there is none). The osvb
 * integration tests check both the output and the exit status.
 */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv)
{
	int status = 0;

	printf("hello from osvb: argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (char **e = environ; *e != NULL; e++)
		printf("env: %s\n", *e);

	if (argc > 1) {
		char *end;
		long v = strtol(argv[1], &end, 10);

		if (*argv[1] == '\0' || *end != '\0' || v < 0 || v > 255) {
			fprintf(stderr, "usage: %s [exit-status 0..255] [args...]\n", argv[0]);
			return 2;
		}
		status = (int)v;
	}
	printf("exit status %d\n", status);
	return status;
}

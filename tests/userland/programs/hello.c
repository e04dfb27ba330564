/* Prints its argv and environment, then exits with the status named by its
 * last argument (static musl and dynamic glibc builds of this file). */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (char **e = environ; *e; e++)
		printf("env %s\n", *e);
	fflush(stdout);
	return argc > 1 ? atoi(argv[argc - 1]) : 0;
}

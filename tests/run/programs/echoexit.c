/* Prints its arguments and one environment variable, then exits with the
 * status given as its first argument (used by tests/run/app.test.ts). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("arg %d: [%s]\n", i, argv[i]);
	const char *v = getenv("ECHO_VAR");
	printf("ECHO_VAR=[%s]\n", v ? v : "(unset)");
	return argc > 1 ? atoi(argv[1]) : 0;
}

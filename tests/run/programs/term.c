/* Waits for SIGTERM (osvb stop), says so and exits 7. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_term(int sig)
{
	got = sig;
}

int main(void)
{
	signal(SIGTERM, on_term);
	printf("term: up\n");
	fflush(stdout);
	while (!got)
		pause();
	printf("term: got signal %d\n", (int)got);
	return 7;
}

/* pthread_exit and pthread_cancel: glibc unwinds the thread through
 * libgcc_s.so.1, which it dlopens; without it the program aborts. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *leave(void *arg)
{
	pthread_exit(arg);
	return NULL;
}

static void *wait_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	void *ret;

	pthread_create(&a, NULL, leave, (void *)42);
	pthread_join(a, &ret);
	printf("pthread_exit: joined %ld\n", (long)ret);
	pthread_create(&b, NULL, wait_forever, NULL);
	pthread_cancel(b);
	pthread_join(b, &ret);
	printf("pthread_cancel: %s\n", ret == PTHREAD_CANCELED ? "canceled" : "not canceled");
	return 0;
}

/* The boot-to-main program: the same static musl binary runs on osvb (osvb.exec)
 * and as /init under Linux. It prints and exits; each kernel then ends the VM. */
#include <stdio.h>

int main(void)
{
	puts("hello from main");
	return 0;
}

/* Host harness for modules/initrd/cpio.c: prints each entry of a newc archive
 * ("<mode octal> <size> <name>") or "error at <offset>: <why>". */
#include <stdio.h>
#include <stdlib.h>
#include "cpio.h"

int main(int argc, char **argv)
{
	FILE *f = fopen(argv[1], "rb");
	if (!f || argc != 2)
		return 2;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	/* An exact-size heap copy: AddressSanitizer catches any read past the end. */
	unsigned char *buf = malloc(len ? len : 1);
	if (len && fread(buf, 1, len, f) != (size_t)len)
		return 2;
	size_t off = 0;
	struct cpio_entry e;
	const char *why;
	int r;
	while ((r = cpio_next(buf, len, &off, &e, &why)) == 1) {
		unsigned long sum = 0;
		for (size_t i = 0; i < e.size; i++)
			sum = sum * 31 + e.data[i];
		printf("%o %zu %lx %s\n", e.mode, e.size, sum, e.name);
	}
	if (r < 0)
		printf("error at %zu: %s\n", off, why);
	else
		printf("end\n");
	free(buf);
	return 0;
}

/*
 * Multiboot (v1) header and entry. Bit 16 ("a.out kludge") supplies the load
 * addresses, so loaders that refuse 64-bit ELF files (QEMU -kernel without the
 * PVH note, GRUB's multiboot) load the image as flat binary. This header must be
 * the first thing in the image (kernel.ld places .multiboot first).
 */
#include <arch/memlayout.h>
#include <boot/proto.h>

#define PHYS(x) ((x) - KERNEL_VMA)
/* page-align modules | memory info | address fields valid */
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MB_FLAGS)
	.long PHYS(mb_header)           /* header_addr */
	.long PHYS(_kernel_start)       /* load_addr */
	.long PHYS(_edata)              /* load_end_addr */
	.long PHYS(_kernel_end)         /* bss_end_addr */
	.long PHYS(mb_start32)          /* entry_addr */

	.section .boot.text, "ax"
	.code32
mb_start32:
	cli
	cld
	cmpl $MULTIBOOT_BOOT_MAGIC, %eax
	jne 1f
	movl %ebx, %ebp
	movl $BOOT_PROTO_MULTIBOOT, %esi
	jmp start32_common
1:	/* Not loaded by a Multiboot loader: nothing sane to do. */
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

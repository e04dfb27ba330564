/* The QEMU floor for the boot bench: a PVH-bootable ELF whose only work is
 * the isa-debug-exit write, so booting it costs QEMU start-up, firmware (qboot)
 * and teardown and nothing else. */

	.section .note.Xen, "a"
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long start

	.text
	.code32
	.globl start
start:
	mov $0xf4, %dx
	xor %eax, %eax			/* status 0 (QEMU exits with 1) */
	out %eax, %dx
halt:	hlt
	jmp halt

	.section .note.GNU-stack, "", @progbits

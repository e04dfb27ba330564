/* The QEMU floor: a PVH kernel whose only work is the isa-debug-exit write.
 * Booting it measures QEMU start-up, firmware and teardown, nothing else. */

	.section .note.Xen, "a"
	.balign 4
	.long 4, 4, 18			/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long floor_start

	.text
	.code32
	.globl floor_start
floor_start:
	movw $0xf4, %dx
	xorl %eax, %eax			/* status 0: QEMU exits with 1 */
	outl %eax, %dx
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

/*
 * The guest osvb boots once under KVM to prove the accelerator runs guests
 * (src/hypervisor/accel.ts). Entered by QEMU's PVH loader in 32-bit protected
 * mode, paging off. It takes an exception through an IDT (int3), toggles
 * EFLAGS.AC with stac/clac where the CPU has SMAP, reads the TSC, and writes
 * 0x31 to isa-debug-exit: QEMU exits 99. A /dev/kvm that cannot emulate these
 * (a paravirtual nested hypervisor) stops with an "emulation failure" instead.
 * kvm-probe-image.ts holds the linked bytes; tests/run/accel.test.ts rebuilds
 * them with GNU as and ld (the command is there) and checks they match.
 */
	.code32
	.section .text, "ax"
	.globl start
start:
	cli
	movl	$stack_top, %esp
	movl	$on_int3, %eax
	movw	%ax, idt + 3 * 8
	movw	%cs, %cx
	movw	%cx, idt + 3 * 8 + 2
	movw	$0x8e00, idt + 3 * 8 + 4
	shrl	$16, %eax
	movw	%ax, idt + 3 * 8 + 6
	lidt	idtr
	int3
	movl	$7, %eax
	xorl	%ecx, %ecx
	cpuid
	btl	$20, %ebx
	jnc	1f
	stac
	clac
1:	rdtsc
	movb	$0x31, %al
	outb	%al, $0xf4
2:	hlt
	jmp	2b

on_int3:
	iret

	/* Data in .text: one loadable segment keeps the image a few hundred bytes. */
	.balign 8
idt:
	.fill 4 * 8, 1, 0
idtr:
	.word 4 * 8 - 1
	.long idt
	.balign 16
	.fill 256, 1, 0
stack_top:

	/* XEN_ELFNOTE_PHYS32_ENTRY: where QEMU's PVH loader enters. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18
	.asciz "Xen"
	.balign 4
	.long start

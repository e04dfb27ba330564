/*
 * 32-bit entry (Xen PVH; Multiboot jumps to start32_common too) -> long mode ->
 * higher half. Loaders enter in flat 32-bit protected mode with paging off.
 *
 * Temporary page tables (2 MiB pages) map physical 0..4 GiB three times:
 * identity (only until we run at the high address), at DIRECT_MAP_BASE, and
 * 0..1 GiB at KERNEL_VMA. mm replaces them with the final tables.
 */
#include <arch/memlayout.h>
#include <arch/gdt.h>
#include <boot/proto.h>

#define PHYS(x) ((x) - KERNEL_VMA)

/* XEN_ELFNOTE_PHYS32_ENTRY: where QEMU/Firecracker/Xen enter in PVH mode. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4
	.long 4
	.long 18
	.asciz "Xen"
	.long PHYS(pvh_start32)

	.section .boot.text, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, %ebp                 /* hvm_start_info (physical) */
	movl $BOOT_PROTO_PVH, %esi
	/* fall through */

	.globl start32_common
start32_common:
	/* esi = protocol, ebp = info pointer (cpuid clobbers ebx). Zero .bss first: loaders differ. */
	movl $PHYS(__bss_start), %edi
	movl $PHYS(_kernel_end), %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $PHYS(boot_stack_top), %esp

	/* Long mode is required. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] and PML4[256] share one PDPT; PML4[511] -> high PDPT. */
	movl $(PHYS(boot_pdpt_low) + 3), %eax
	movl %eax, PHYS(boot_pml4)
	movl %eax, PHYS(boot_pml4) + 256 * 8
	movl $(PHYS(boot_pdpt_high) + 3), %eax
	movl %eax, PHYS(boot_pml4) + 511 * 8
	movl $(PHYS(boot_pd) + 3), %eax
	movl %eax, PHYS(boot_pdpt_high) + 510 * 8
	movl $PHYS(boot_pdpt_low), %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b
	/* 2048 x 2 MiB: present, writable, large. */
	movl $PHYS(boot_pd), %edi
	movl $0x83, %eax
	movl $2048, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 2b

	movl %cr4, %eax
	orl $(1 << 5), %eax             /* PAE */
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER.LME */
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG | WP | PE */
	movl %eax, %cr0
	lgdt PHYS(boot_gdt_ptr)
	ljmp $KERNEL_CS, $PHYS(start64_low)

no_long_mode:
	movl $PHYS(no_lm_msg), %esi
3:	lodsb
	testb %al, %al
	jz 4f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 3b
4:	cli
	hlt
	jmp 4b

	.code64
start64_low:
	movabs $start64_high, %rax
	jmp *%rax

	.text
start64_high:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $boot_stack_top, %rsp
	movl %esi, %edi                 /* protocol */
	movl %ebp, %esi                 /* info (physical) */
	xorl %ebp, %ebp                 /* terminates backtraces */
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
no_lm_msg:
	.asciz "osvb: this CPU has no long mode (x86-64); cannot boot\r\n"

	.balign 8
boot_gdt_ptr:
	.word gdt_boot_end - gdt_boot - 1
	.quad PHYS(gdt_boot)
	.balign 8
	/* Only used until arch_init() loads the real GDT (with TSS). */
gdt_boot:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff        /* 0x10 kernel data, flat */
gdt_boot_end:

	.bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits

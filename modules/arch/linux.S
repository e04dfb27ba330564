/*
 * Linux/x86 boot protocol (Documentation/x86/boot.rst), for loaders that take a
 * bzImage: QEMU -kernel through linuxboot.rom on pc/q35, qboot on microvm,
 * Firecracker and novm. osvb build turns kernel.elf into the bzImage: the
 * .bzimage.setup section (never loaded as part of the kernel; linked at 0) becomes
 * the real-mode setup sectors, and the loadable segments the protected-mode
 * image at 1 MiB, which starts with .bzimage.head.
 */
#include <arch/memlayout.h>
#include <boot/proto.h>

#define PHYS(x) ((x) - KERNEL_VMA)
#define BP 0x8000                       /* boot_params, offset in the setup segment */
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define E820_MAX 128
#define HDR_END 0x290                   /* copy the setup header up to here */
#define SMAP 0x534d4150
#define BOOT_CS 0x10                    /* selectors the protocol prescribes */
#define BOOT_DS 0x18

/* Head of the protected-mode image: the 32-bit entry at the load address
 * (code32_start), the 64-bit entry at +0x200 (XLF_KERNEL_64). */
	.section .bzimage.head, "ax"
	.code32
linux_head:
	jmp linux_start32
	.org linux_head + 0x200
	.code64
linux_start64:
	/* 64-bit entry: paging on with the kernel and boot_params identity-mapped,
	 * rsi = boot_params. Drop back to 32-bit protected mode (compatibility mode,
	 * then paging off, which leaves long mode) and take the 32-bit path, so
	 * one page-table setup serves every entry. No stack is promised: use ours. */
	cli
	cld
	movq %rsi, %rax
	shrq $32, %rax
	jnz 2f                          /* boot_params above 4 GiB: unreachable later */
	movl %esi, %ebp
	movl $PHYS(boot_stack_top), %esp
	movq %cr4, %rax
	btrq $17, %rax                  /* PCIDE must be off before paging goes off */
	movq %rax, %cr4
	lgdt linux_gdt64_ptr(%rip)
	pushq $BOOT_CS
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
	.code32
1:	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr0, %eax
	andl $0x7fffffff, %eax          /* PG off: leaves long mode */
	movl %eax, %cr0
	movl $0xc0000080, %ecx          /* EFER.LME off */
	rdmsr
	andl $~(1 << 8), %eax
	wrmsr
	xorl %eax, %eax                 /* drop the loader's CR4 (LA57, PGE...): start32_common sets PAE */
	movl %eax, %cr4
	movl %ebp, %esi
	jmp linux_start32
	.code64
2:	cli
	hlt
	jmp 2b

	.section .boot.text, "ax"
	.code32
linux_start32:
	/* Flat 32-bit protected mode, paging off, esi = struct boot_params. */
	cli
	cld
	movl %esi, %ebp
	movl $BOOT_PROTO_LINUX, %esi
	jmp start32_common

	.section .rodata
	.balign 8
linux_gdt64_ptr:
	.word linux_gdt_end - linux_gdt - 1
	.quad PHYS(linux_gdt)
	.balign 8
linux_gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x10: 32-bit code, flat */
	.quad 0x00cf92000000ffff        /* 0x18: data, flat */
linux_gdt_end:

/*
 * Real-mode setup: boot sector stub, setup header at 0x1f1, and the code the
 * 16-bit loaders (linuxboot.rom, qboot) jump to at setup+0x200 with
 * cs = seg+0x20, ds = es = ss = seg. It builds boot_params from the header the
 * loader filled in and the BIOS's E820 map, enters protected mode and jumps to
 * code32_start with esi = boot_params, as the Linux setup code does. osvb build
 * fills setup_sects, syssize and init_size.
 */
	.section .bzimage.setup, "", @progbits
	.code16
setup_start:
	.org 0x1f1
	.byte 0                         /* setup_sects */
	.word 0                         /* root_flags */
	.long 0                         /* syssize */
	.word 0                         /* ram_size */
	.word 0xffff                    /* vid_mode: normal */
	.word 0                         /* root_dev */
	.word 0xaa55                    /* boot_flag */
	.org 0x200
	.byte 0xeb, setup16 - 0x202     /* jmp short setup16 */
	.ascii "HdrS"
	.word 0x020c                    /* protocol 2.12 */
	.long 0                         /* realmode_swtch */
	.word 0x1000                    /* start_sys_seg */
	.word 0                         /* kernel_version */
	.byte 0                         /* type_of_loader */
	.byte 0x01                      /* loadflags: LOADED_HIGH */
	.word 0                         /* setup_move_size */
	.long PHYS(linux_head)          /* code32_start */
	.long 0                         /* ramdisk_image */
	.long 0                         /* ramdisk_size */
	.long 0                         /* bootsect_kludge */
	.word 0                         /* heap_end_ptr */
	.byte 0                         /* ext_loader_ver */
	.byte 0                         /* ext_loader_type */
	.long 0                         /* cmd_line_ptr */
	.long 0x7fffffff                /* initrd_addr_max */
	.long 0x1000                    /* kernel_alignment */
	.byte 0                         /* relocatable_kernel: no, runs at 1 MiB */
	.byte 12                        /* min_alignment */
	.word 0x0001                    /* xloadflags: XLF_KERNEL_64 */
	.long 4095                      /* cmdline_size (BOOT_CMDLINE_MAX - 1) */
	.long 0                         /* hardware_subarch: PC */
	.quad 0                         /* hardware_subarch_data */
	.long 0                         /* payload_offset */
	.long 0                         /* payload_length */
	.quad 0                         /* setup_data */
	.quad PHYS(linux_head)          /* pref_address */
	.long 0                         /* init_size */
	.long 0                         /* handover_offset: no EFI handover */

setup16:
	cli
	cld
	movw %cs, %ax
	subw $0x20, %ax
	movw %ax, %ds
	movw %ax, %es
	pushw %ax
	pushw $1f
	lretw                           /* cs = ds: offsets are now file offsets */
1:	movw $BP, %di
	movw $2048, %cx
	xorw %ax, %ax
	rep stosw
	movw $0x1f1, %si
	movw $(BP + 0x1f1), %di
	movw $(HDR_END - 0x1f1), %cx
	rep movsb

	/* E820 map from the BIOS, at most E820_MAX entries. */
	xorl %ebx, %ebx
	movw $(BP + BP_E820_TABLE), %di
2:	movl $0xe820, %eax
	movl $20, %ecx
	movl $SMAP, %edx
	pushw %di
	int $0x15
	popw %di
	jc 3f
	cmpl $SMAP, %eax
	jne 3f
	addw $20, %di
	incb BP + BP_E820_ENTRIES
	cmpb $E820_MAX, BP + BP_E820_ENTRIES
	jae 3f
	testl %ebx, %ebx
	jnz 2b
3:
	inb $0x92, %al                  /* fast A20 (firmware usually has it on) */
	orb $2, %al
	andb $~1, %al
	outb %al, $0x92

	xorl %ebx, %ebx
	movw %ds, %bx
	shll $4, %ebx                   /* linear base of the setup segment */
	leal setup_gdt(%ebx), %eax
	movl %eax, setup_gdt_ptr + 2
	lgdtl setup_gdt_ptr
	movl BP + 0x214, %eax           /* code32_start, as the loader left it */
	movl %eax, setup_far
	leal BP(%ebx), %esi
	movl %cr0, %eax
	orb $1, %al
	movl %eax, %cr0
	movw $BOOT_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	xorl %ebx, %ebx
	xorl %ebp, %ebp
	xorl %edi, %edi
	ljmpl *%cs:setup_far

	.balign 8
setup_gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x10: 32-bit code, flat */
	.quad 0x00cf92000000ffff        /* 0x18: data, flat */
setup_gdt_end:
setup_gdt_ptr:
	.word setup_gdt_end - setup_gdt - 1
	.long 0
setup_far:
	.long 0
	.word BOOT_CS

	.section .note.GNU-stack, "", @progbits

/* GDT (kernel and user segments), TSS with rsp0/IST stacks, per-CPU base. */
#include <arch/gdt.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <lib/compiler.h>
#include <lib/string.h>

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

static uint64_t gdt[8] __aligned(16) = {
	0,
	0x00af9a000000ffff, /* 0x08 kernel code, 64-bit */
	0x00cf92000000ffff, /* 0x10 kernel data */
	0x00cffa000000ffff, /* 0x18 user code, 32-bit (sysret base only) */
	0x00cff2000000ffff, /* 0x20 user data */
	0x00affa000000ffff, /* 0x28 user code, 64-bit */
	0, 0,               /* 0x30 TSS (two slots) */
};

static struct tss tss __aligned(16);

/* Separate stacks for faults that must work even when the kernel stack is bad. */
#define IST_STACK_SIZE 8192
static uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);

struct percpu percpu_boot;

void tss_set_rsp0(uint64_t rsp0)
{
	tss.rsp[0] = rsp0;
}

uint64_t tss_get_rsp0(void)
{
	return tss.rsp[0];
}

void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	memset(&tss, 0, sizeof(tss));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 gets no ports */
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&ist_stacks[0][IST_STACK_SIZE];
	tss.ist[IST_NMI - 1] = (uint64_t)&ist_stacks[1][IST_STACK_SIZE];
	tss.ist[IST_MCE - 1] = (uint64_t)&ist_stacks[2][IST_STACK_SIZE];

	gdt[TSS_SEL / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[TSS_SEL / 8 + 1] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __packed ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

	__asm__ __volatile__(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t"
		"movl %%eax, %%fs\n\t"
		"movl %%eax, %%gs\n\t"
		"ltr %w3"
		:
		: "m"(ptr), "i"(KERNEL_CS), "i"(KERNEL_DS), "r"(TSS_SEL)
		: "rax", "memory");

	/* GS base must be set after the gs reload above (loading gs clears it). */
	percpu_boot.self = &percpu_boot;
	wrmsr(MSR_GS_BASE, (uint64_t)&percpu_boot);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

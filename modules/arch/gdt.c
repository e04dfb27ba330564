/* GDT (kernel and user segments), TSS with rsp0/IST stacks, per-CPU base.
 * Every CPU has its own GDT and TSS (in its struct percpu): the TSS holds
 * that CPU's kernel stack for ring 3 entries and its IST stacks. */
#include <arch/gdt.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <lib/compiler.h>
#include <lib/string.h>

static const uint64_t gdt_template[8] = {
	0,
	0x00af9a000000ffff, /* 0x08 kernel code, 64-bit */
	0x00cf92000000ffff, /* 0x10 kernel data */
	0x00cffa000000ffff, /* 0x18 user code, 32-bit (sysret base only) */
	0x00cff2000000ffff, /* 0x20 user data */
	0x00affa000000ffff, /* 0x28 user code, 64-bit */
	0, 0,               /* 0x30 TSS (two slots) */
};

/* The boot CPU's fault stacks; application processors get theirs from the
 * smp module. */
#define IST_STACK_SIZE 8192
static uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);

struct percpu percpus[MAX_CPUS];

void tss_set_rsp0(uint64_t rsp0)
{
	this_cpu()->tss.rsp[0] = rsp0;
}

uint64_t tss_get_rsp0(void)
{
	return this_cpu()->tss.rsp[0];
}

void gdt_init_cpu(struct percpu *cpu, const uint64_t ist_top[3])
{
	struct tss *tss = &cpu->tss;
	uint64_t *gdt = cpu->gdt;
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	memcpy(gdt, gdt_template, sizeof(gdt_template));
	memset(tss, 0, sizeof(*tss));
	tss->iomap_base = sizeof(*tss); /* no I/O bitmap: ring 3 gets no ports */
	tss->ist[IST_DOUBLE_FAULT - 1] = ist_top[0];
	tss->ist[IST_NMI - 1] = ist_top[1];
	tss->ist[IST_MCE - 1] = ist_top[2];

	gdt[TSS_SEL / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[TSS_SEL / 8 + 1] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __packed ptr = { sizeof(cpu->gdt) - 1, (uint64_t)gdt };

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
	cpu->self = cpu;
	wrmsr(MSR_GS_BASE, (uint64_t)cpu);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void gdt_init(void)
{
	const uint64_t ist_top[3] = {
		(uint64_t)&ist_stacks[0][IST_STACK_SIZE],
		(uint64_t)&ist_stacks[1][IST_STACK_SIZE],
		(uint64_t)&ist_stacks[2][IST_STACK_SIZE],
	};
	gdt_init_cpu(&percpu_boot, ist_top);
}

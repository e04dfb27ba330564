#include <selftest/selftest.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/memlayout.h>
#include <arch/percpu.h>
#include <arch/trap.h>

static volatile int bp_hits;
static volatile uint64_t bp_rip;

static void on_bp(struct trap_frame *tf)
{
	bp_hits++;
	bp_rip = tf->rip;
}

SELFTEST(trap_handler, "arch.trap_handler")
{
	bp_hits = 0;
	trap_set_handler(T_BP, on_bp);
	__asm__ __volatile__("int3");
	trap_set_handler(T_BP, NULL);
	ST_EXPECT_EQ(bp_hits, 1);
	ST_EXPECT(bp_rip >= KERNEL_VMA);
}

SELFTEST(cpu_state, "arch.cpu_state")
{
	uint16_t cs, ss;

	__asm__ __volatile__("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	ST_EXPECT_EQ(cs, KERNEL_CS);
	ST_EXPECT_EQ(ss, KERNEL_DS);
	ST_EXPECT(this_cpu()->self == this_cpu());
	ST_EXPECT(read_cr0() & CR0_WP);
	ST_EXPECT(!cpu_has(CPU_NX) || (rdmsr(MSR_EFER) & EFER_NXE));
	ST_EXPECT(irqs_enabled());
	/* The thread's kernel stack top is what ring 3 would enter on. */
	uint64_t rsp0 = tss_get_rsp0(), sp = (uint64_t)__builtin_frame_address(0);
	ST_EXPECT(sp < rsp0 && rsp0 - sp < 64 * 1024);
}

/* IDT setup, trap dispatch, and fatal-exception reports. */
#include <arch/trap.h>
#include <arch/gdt.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/memlayout.h>
#include <arch/backtrace.h>
#include <console/printk.h>
#include <lib/panic.h>
#include <lib/compiler.h>

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __packed;

static struct idt_entry idt[NR_VECTORS] __aligned(16);
static trap_handler_t handlers[NR_VECTORS];
void (*trap_irq_exit_hook)(struct trap_frame *tf);

extern char trap_stubs[];

static const char *const names[32] = {
	[T_DE] = "#DE divide error",
	[T_DB] = "#DB debug",
	[T_NMI] = "NMI",
	[T_BP] = "#BP breakpoint",
	[T_OF] = "#OF overflow",
	[T_BR] = "#BR bound range",
	[T_UD] = "#UD invalid opcode",
	[T_NM] = "#NM device not available",
	[T_DF] = "#DF double fault",
	[T_TS] = "#TS invalid TSS",
	[T_NP] = "#NP segment not present",
	[T_SS] = "#SS stack fault",
	[T_GP] = "#GP general protection",
	[T_PF] = "#PF page fault",
	[T_MF] = "#MF x87 error",
	[T_AC] = "#AC alignment check",
	[T_MC] = "#MC machine check",
	[T_XM] = "#XM SIMD error",
	[T_VE] = "#VE virtualization",
	[T_CP] = "#CP control protection",
};

const char *trap_name(unsigned v)
{
	if (v < 32)
		return names[v] ? names[v] : "reserved exception";
	return "interrupt";
}

static void set_gate(unsigned v, unsigned ist, unsigned dpl)
{
	uint64_t off = (uint64_t)(trap_stubs + 16 * v);

	idt[v] = (struct idt_entry){
		.off_lo = off & 0xffff,
		.sel = KERNEL_CS,
		.ist = ist,
		.type = 0x8e | (dpl << 5), /* present interrupt gate: IF cleared on entry */
		.off_mid = (off >> 16) & 0xffff,
		.off_hi = off >> 32,
	};
}

void idt_load(void);

void idt_init(void)
{
	for (unsigned v = 0; v < NR_VECTORS; v++)
		set_gate(v, 0, 0);
	set_gate(T_DF, IST_DOUBLE_FAULT, 0);
	set_gate(T_NMI, IST_NMI, 0);
	set_gate(T_MC, IST_MCE, 0);
	set_gate(T_BP, 0, 3); /* int3 allowed from ring 3 */
	idt_load();
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed ptr = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ __volatile__("lidt %0" : : "m"(ptr));
}

void trap_set_handler(unsigned vector, trap_handler_t h)
{
	if (vector < NR_VECTORS)
		handlers[vector] = h;
}

void trap_dump(const struct trap_frame *tf)
{
	printk_raw("  rip=%016lx rsp=%016lx rflags=%08lx cs=%04lx ss=%04lx\n", tf->rip, tf->rsp,
		   tf->rflags, tf->cs, tf->ss);
	printk_raw("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	printk_raw("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
	printk_raw("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
	printk_raw("  r13=%016lx r14=%016lx r15=%016lx\n", tf->r13, tf->r14, tf->r15);
	printk_raw("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx\n", read_cr0(), read_cr2(), read_cr3(),
		   read_cr4());
	if (!trap_from_user(tf)) {
		printk_raw("osvb: backtrace:\n");
		backtrace_print_from(tf->rip, tf->rbp);
	}
}

void trap_fatal(struct trap_frame *tf)
{
	unsigned v = tf->vector;

	panic_begin();
	printk_raw("osvb: %s exception %s (vector %lu) at rip %016lx, error %#lx\n",
		   trap_from_user(tf) ? "user" : "kernel", trap_name(v), tf->vector, tf->rip, tf->error);
	if (v == T_PF) {
		uint64_t cr2 = read_cr2();
		printk_raw("  page fault at %016lx: %s %s, %s mode%s\n", cr2,
			   (tf->error & 1) ? "protection violation" : "page not present",
			   (tf->error & 16) ? "on instruction fetch" : (tf->error & 2) ? "on write" : "on read",
			   (tf->error & 4) ? "user" : "kernel", cr2 < 4096 ? " (NULL pointer)" : "");
	}
	if (v == T_DF) {
		uint64_t cr2 = read_cr2();
		if (cr2 >= KSTACK_AREA_BASE && cr2 < KSTACK_AREA_BASE + KSTACK_AREA_SIZE)
			printk_raw("  kernel stack overflow: %016lx is in a stack guard page\n", cr2);
	}
	trap_dump(tf);
	panic_end("fatal exception %s", trap_name(v));
}

void trap_dispatch(struct trap_frame *tf)
{
	unsigned v = tf->vector;
	struct percpu *cpu = this_cpu();

	if (v < IRQ_VECTOR_BASE) {
		if (handlers[v])
			handlers[v](tf);
		else
			trap_fatal(tf);
		return;
	}
	cpu->irq_depth++;
	if (handlers[v])
		handlers[v](tf);
	else
		printk(LOG_WARN, "osvb: unexpected interrupt on vector %u\n", v);
	cpu->irq_depth--;
	if (trap_irq_exit_hook && cpu->irq_depth == 0)
		trap_irq_exit_hook(tf);
}

/* Starting the application processors: the MADT lists them, each is started
 * with INIT-SIPI-SIPI through the real-mode trampoline, one at a time, and
 * set up as a CPU of its own (GDT/TSS and fault stacks, local APIC and timer,
 * run queue and idle thread, the CPU_INIT steps of other modules). Runs as an
 * INIT_CORE initcall, so drivers see the final cpu_count(). */
#include <smp/trampoline.h>
#include <acpi/acpi.h>
#include <acpi/tables.h>
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <arch/mmu.h>
#include <arch/smp.h>
#include <boot/boot_info.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <irq/lapic.h>
#include <lib/string.h>
#include <mm/page.h>
#include <mm/vm.h>
#include <mm/vmap.h>
#include <sched/thread.h>
#include <time/clock.h>
#include <time/timer.h>

#define IST_STACK_ORDER 1 /* 8 KiB per fault stack */
#define AP_START_TIMEOUT_NS (5 * NSEC_PER_SEC) /* TCG on a busy host is slow */

struct madt_x2apic {
	struct madt_entry e;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __packed;

struct ap_start {
	struct percpu *cpu;
	uint64_t ist_top[3];
	volatile bool started;
};

static void __noreturn ap_main(struct ap_start *s)
{
	struct percpu *cpu = s->cpu;
	const struct cpu_init *ci;

	write_cr3(virt_to_phys(vm_kernel_root()));
	arch_init_ap(cpu, s->ist_top);
	lapic_init_ap();
	if (lapic_id() != cpu->apic_id) {
		/* Late from an earlier, abandoned start: the data is not ours. */
		arch_halt_forever();
	}
	timer_cpu_init();
	sched_init_ap();
	ktable_foreach(ci, cpuinit)
		ci->fn();
	smp_set_online(cpu);
	__atomic_store_n(&s->started, true, __ATOMIC_RELEASE);
	sched_idle_loop();
}

/* Usable RAM under the trampoline page? (Firmware could have put something there.) */
static bool tramp_page_usable(void)
{
	for (unsigned i = 0; i < boot_info.nmem; i++) {
		const struct boot_mem_region *m = &boot_info.mem[i];
		if (m->type == BOOT_MEM_USABLE && m->base <= TRAMP_PHYS && m->base + m->size >= TRAMP_PHYS + 4096)
			return true;
	}
	return false;
}

/* PML4 with the first 2 MiB identity-mapped (executable: the trampoline runs
 * there) and the kernel's higher half shared. Returns its physical address. */
static paddr_t tramp_page_tables(void)
{
	paddr_t pml4 = page_alloc_phys(0, PAGE_ZERO | PAGE_DMA32);
	paddr_t pdpt = page_alloc_phys(0, PAGE_ZERO | PAGE_DMA32);
	paddr_t pd = page_alloc_phys(0, PAGE_ZERO | PAGE_DMA32);
	if (!pml4 || !pdpt || !pd)
		return 0;
	pte_t *l4 = phys_to_virt(pml4);
	memcpy(l4 + 256, vm_kernel_root() + 256, 256 * sizeof(pte_t));
	l4[0] = pdpt | PTE_P | PTE_W;
	((pte_t *)phys_to_virt(pdpt))[0] = pd | PTE_P | PTE_W;
	((pte_t *)phys_to_virt(pd))[0] = 0 | PTE_P | PTE_W | PTE_PS;
	return pml4;
}

static bool start_ap(unsigned id, unsigned apic_id, paddr_t cr3)
{
	static struct ap_start starts[MAX_CPUS]; /* outlives a start that timed out */
	struct percpu *cpu = &percpus[id];
	struct ap_start *s = &starts[id];
	void *stack = kstack_alloc();

	if (!stack)
		return false;
	for (int i = 0; i < 3; i++) {
		paddr_t pa = page_alloc_phys(IST_STACK_ORDER, 0);
		if (!pa)
			return false;
		s->ist_top[i] = (uint64_t)phys_to_virt(pa) + (4096ul << IST_STACK_ORDER);
	}
	s->cpu = cpu;
	cpu->cpu_id = id;
	cpu->apic_id = apic_id;

	struct ap_tramp_data *d = phys_to_virt(TRAMP_PHYS + (ap_tramp_data - ap_trampoline));
	d->cr3 = (uint32_t)cr3;
	d->efer = EFER_LME | (cpu_has(CPU_NX) ? EFER_NXE : 0);
	d->stack = (uint64_t)stack + KSTACK_SIZE;
	d->arg = (uint64_t)s;
	d->entry = (uint64_t)ap_main;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_send_init(apic_id);
	clock_delay_us(10000);
	for (int sipi = 0; sipi < 2 && !s->started; sipi++) {
		lapic_send_startup(apic_id, TRAMP_PHYS >> 12);
		clock_delay_us(200);
	}
	uint64_t deadline = clock_monotonic_ns() + AP_START_TIMEOUT_NS;
	while (!__atomic_load_n(&s->started, __ATOMIC_ACQUIRE)) {
		if (clock_monotonic_ns() > deadline)
			return false; /* its stacks stay allocated: it may still come */
		thread_sleep_ns(100000);
	}
	return true;
}

static int smp_init(void)
{
	const struct acpi_madt *madt = (const void *)acpi_find_table("APIC", 0);
	unsigned listed = 0, started = 1, self = lapic_id();

	if (!madt || madt->h.length < sizeof(*madt)) {
		printk(LOG_INFO, "smp: no MADT; one CPU\n");
		return 0;
	}
	if (!tramp_page_usable()) {
		printk(LOG_WARN, "smp: %#x is not usable RAM for the start-up code; one CPU\n", TRAMP_PHYS);
		return 0;
	}
	paddr_t cr3 = tramp_page_tables();
	if (!cr3) {
		printk(LOG_WARN, "smp: out of memory; one CPU\n");
		return 0;
	}
	memcpy(phys_to_virt(TRAMP_PHYS), ap_trampoline, ap_trampoline_end - ap_trampoline);

	const uint8_t *p = madt->entries, *end = (const uint8_t *)madt + madt->h.length;
	bool failed = false;
	/* Entries come from firmware: stop at the first malformed length. */
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		const struct madt_entry *e = (const void *)p;
		unsigned apic_id;
		uint32_t flags;
		if (e->type == MADT_LAPIC && e->length >= sizeof(struct madt_lapic)) {
			apic_id = ((const struct madt_lapic *)e)->apic_id;
			flags = ((const struct madt_lapic *)e)->flags;
		} else if (e->type == MADT_X2APIC && e->length >= sizeof(struct madt_x2apic)) {
			apic_id = ((const struct madt_x2apic *)e)->x2apic_id;
			flags = ((const struct madt_x2apic *)e)->flags;
		} else {
			continue;
		}
		if (!(flags & 3)) /* neither enabled nor online-capable */
			continue;
		listed++;
		if (apic_id == self || failed || started == MAX_CPUS)
			continue;
		if (apic_id > 0xfe && !lapic_is_x2apic()) {
			printk(LOG_WARN, "smp: CPU with APIC id %u needs x2APIC; not started\n", apic_id);
			continue;
		}
		if (start_ap(started, apic_id, cr3)) {
			started++;
		} else {
			printk(LOG_WARN, "smp: CPU with APIC id %u did not start\n", apic_id);
			failed = true;
		}
	}
	if (listed > MAX_CPUS)
		printk(LOG_WARN, "smp: the firmware lists %u CPUs; this kernel uses at most %u (NR_CPUS)\n", listed,
		       MAX_CPUS);
	printk(LOG_INFO, "smp: %u CPU%s online\n", cpu_count(), cpu_count() == 1 ? "" : "s");
	return 0;
}

INITCALL(INIT_CORE, smp_init);

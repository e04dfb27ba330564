/* Local APIC. x2APIC mode (MSR access: no MMIO exits under KVM) when the CPU
 * has it, xAPIC MMIO otherwise. */
#include <irq/lapic.h>
#include <arch/cpu.h>
#include <arch/io.h>
#include <console/printk.h>
#include <lib/panic.h>
#include <mm/vmap.h>

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define SPURIOUS_VECTOR 0xff
#define ERROR_VECTOR 0xfe

static volatile uint8_t *mmio;
static int x2apic;

uint32_t lapic_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return mmio_read32(mmio + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio_write32(mmio + reg, v);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

unsigned lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);
	return x2apic ? id : id >> 24;
}

int lapic_is_x2apic(void)
{
	return x2apic;
}

#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)

/* One interprocessor interrupt command. Interrupts are off so that a handler
 * on this CPU cannot send its own IPI between the two xAPIC register writes. */
static void send_icr(unsigned apic_id, uint32_t lo)
{
	uint64_t f = irq_save();
	if (x2apic) {
		wrmsr(0x830, ((uint64_t)apic_id << 32) | lo);
	} else {
		mmio_write32(mmio + LAPIC_ICR_HI, apic_id << 24);
		mmio_write32(mmio + LAPIC_ICR_LO, lo);
		while (mmio_read32(mmio + LAPIC_ICR_LO) & ICR_DELIVERY_PENDING)
			cpu_relax();
	}
	irq_restore(f);
}

void lapic_send_ipi(unsigned apic_id, unsigned vector)
{
	send_icr(apic_id, vector & 0xff);
}

void lapic_send_init(unsigned apic_id)
{
	send_icr(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

void lapic_send_startup(unsigned apic_id, unsigned page)
{
	send_icr(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | (page & 0xff));
}

/* Everything after the mode choice: the same on every CPU. */
static void lapic_setup(void)
{
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, 4u << 8); /* NMI */
	lapic_write(LAPIC_LVT_ERROR, ERROR_VECTOR);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR); /* software enable */
	lapic_eoi();
}

void lapic_init(paddr_t base)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	if (cpu_has(CPU_X2APIC)) {
		wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
		x2apic = 1;
	} else {
		if (!base)
			base = msr & 0xffffff000ull;
		wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
		mmio = ioremap(base, 4096);
		if (!mmio)
			panic("irq: cannot map the local APIC");
	}
	lapic_setup();
	printk(LOG_INFO, "irq: local APIC %u (%s)\n", lapic_id(), x2apic ? "x2APIC" : "xAPIC");
}

void lapic_init_ap(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	/* Same mode and (xAPIC) the same MMIO window as the boot CPU. */
	wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE | (x2apic ? APIC_BASE_X2APIC : 0));
	lapic_setup();
}

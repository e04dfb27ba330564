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
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, 4u << 8); /* NMI */
	lapic_write(LAPIC_LVT_ERROR, ERROR_VECTOR);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR); /* software enable */
	lapic_eoi();
	printk(LOG_INFO, "irq: local APIC %u (%s)\n", lapic_id(), x2apic ? "x2APIC" : "xAPIC");
}

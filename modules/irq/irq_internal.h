#ifndef IRQ_INTERNAL_H
#define IRQ_INTERNAL_H

#include <irq/irq.h>
#include <arch/memlayout.h>

#define MAX_IOAPICS 4

struct ioapic {
	volatile uint8_t *mmio;
	unsigned gsi_base;
	unsigned count;
};

extern struct ioapic ioapics[MAX_IOAPICS];
extern unsigned nioapics;

int ioapic_add(paddr_t addr, unsigned gsi_base);
int ioapic_route(unsigned gsi, unsigned vector, unsigned mode, unsigned dest_apic);
void ioapic_set_masked(unsigned gsi, int masked);
void lapic_init(paddr_t base);
void pic_disable(void);

#endif

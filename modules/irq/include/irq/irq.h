/* Interrupt routing: legacy PICs masked, local APIC, I/O APICs (from the ACPI
 * MADT, with ISA overrides). Handlers run with interrupts disabled; the EOI is
 * sent after the handler returns. */
#ifndef IRQ_IRQ_H
#define IRQ_IRQ_H

#include <stdint.h>

typedef void (*irq_handler_t)(void *arg);

/* Trigger mode and polarity of a GSI. */
#define IRQ_EDGE 0
#define IRQ_LEVEL (1u << 0)
#define IRQ_ACTIVE_HIGH 0
#define IRQ_ACTIVE_LOW (1u << 1)

void irq_init(void);

/* Route a global system interrupt through its I/O APIC to fn(arg) on the boot
 * CPU and unmask it. Returns the vector, or -EINVAL/-EBUSY/-ENOSPC. */
int irq_attach(unsigned gsi, unsigned mode, irq_handler_t fn, void *arg);
/* Same for an ISA IRQ (0-15): applies the firmware's overrides (IRQ0 -> GSI 2...). */
int irq_attach_isa(unsigned isa_irq, irq_handler_t fn, void *arg);
void irq_detach(unsigned gsi);
void irq_mask(unsigned gsi);
void irq_unmask(unsigned gsi);

/* A free vector bound to fn(arg), for local sources (APIC timer) and MSI.
 * Returns the vector or -ENOSPC. */
int irq_alloc_vector(irq_handler_t fn, void *arg);
void irq_free_vector(int vector);

/* Handle count of a vector since boot (diagnostics and tests). */
uint64_t irq_count(int vector);

#endif

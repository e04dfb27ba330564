/* Local APIC access (xAPIC MMIO or x2APIC MSRs, chosen at boot). */
#ifndef IRQ_LAPIC_H
#define IRQ_LAPIC_H

#include <stdint.h>

#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIV 0x3e0

#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_PERIODIC (1u << 17)
#define LAPIC_TIMER_TSC_DEADLINE (2u << 17)

uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_eoi(void);
unsigned lapic_id(void);
int lapic_is_x2apic(void);

/* Interprocessor interrupts, by local APIC id (physical destination). */
void lapic_send_ipi(unsigned apic_id, unsigned vector);
void lapic_send_init(unsigned apic_id);                 /* INIT, level assert */
void lapic_send_startup(unsigned apic_id, unsigned page); /* SIPI: start at page << 12, real mode */
/* An application processor's own local APIC, in the boot CPU's mode. */
void lapic_init_ap(void);

#endif

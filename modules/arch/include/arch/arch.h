/* Architecture bring-up called by init. */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stdint.h>

/* GDT/TSS/IDT, per-CPU base, CPU feature detection and control registers. */
void arch_init(void);

/* The same for an application processor (features were detected on the boot
 * CPU): control registers, its own GDT/TSS and GS base, the shared IDT. */
struct percpu;
void arch_init_ap(struct percpu *cpu, const uint64_t ist_top[3]);

/* Halt this CPU forever with interrupts off. */
void arch_halt_forever(void) __attribute__((noreturn));

#endif

/* Architecture bring-up called by init. */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

/* GDT/TSS/IDT, per-CPU base, CPU feature detection and control registers. */
void arch_init(void);

/* Halt this CPU forever with interrupts off. */
void arch_halt_forever(void) __attribute__((noreturn));

#endif

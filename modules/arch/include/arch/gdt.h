/* Segment selectors and the TSS. The layout also suits syscall/sysret:
 * STAR[47:32] = KERNEL_CS, STAR[63:48] = USER_CS32 (sysret loads SS = +8, CS = +16). */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_CS32 0x1b /* placeholder for sysret; 32-bit user code is not supported */
#define USER_DS 0x23
#define USER_CS 0x2b
#define TSS_SEL 0x30

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MCE 3

#ifndef __ASSEMBLY__
#include <stdint.h>

/* Kernel stack used when an interrupt or syscall arrives from ring 3. */
void tss_set_rsp0(uint64_t rsp0);
uint64_t tss_get_rsp0(void);
#endif

#endif

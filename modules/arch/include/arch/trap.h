/* Interrupt/exception frames and handler registration. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <arch/trap_frame.h>

#include <stdint.h>

/* Saved by the entry stubs; the tail (rip..ss) is the CPU's own frame. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(__builtin_offsetof(struct trap_frame, r11) == TF_R11, "TF_R11");
_Static_assert(__builtin_offsetof(struct trap_frame, rcx) == TF_RCX, "TF_RCX");
_Static_assert(__builtin_offsetof(struct trap_frame, vector) == TF_VECTOR, "TF_VECTOR");
_Static_assert(__builtin_offsetof(struct trap_frame, rip) == TF_RIP, "TF_RIP");
_Static_assert(__builtin_offsetof(struct trap_frame, rflags) == TF_RFLAGS, "TF_RFLAGS");

enum {
	T_DE = 0, T_DB = 1, T_NMI = 2, T_BP = 3, T_OF = 4, T_BR = 5, T_UD = 6, T_NM = 7,
	T_DF = 8, T_TS = 10, T_NP = 11, T_SS = 12, T_GP = 13, T_PF = 14, T_MF = 16,
	T_AC = 17, T_MC = 18, T_XM = 19, T_VE = 20, T_CP = 21,
};

#define IRQ_VECTOR_BASE 32   /* first vector available for interrupts */
#define NR_VECTORS 256

typedef void (*trap_handler_t)(struct trap_frame *tf);

/* Route a vector to a handler (NULL restores the default: print and panic for
 * exceptions, "unexpected interrupt" for others). */
void trap_set_handler(unsigned vector, trap_handler_t h);

/* Called after every interrupt handler (vector >= 32) while still in interrupt
 * context; the scheduler installs its preemption point here. */
extern void (*trap_irq_exit_hook)(struct trap_frame *tf);

/* The default for an unhandled exception: report (registers, backtrace) and
 * panic. Handlers that take over a vector (e.g. user page faults) call it for
 * the cases they do not handle. */
void trap_fatal(struct trap_frame *tf) __attribute__((noreturn));

/* Print the frame's registers and a backtrace (raw addresses, one per line). */
void trap_dump(const struct trap_frame *tf);

const char *trap_name(unsigned vector);

static inline int trap_from_user(const struct trap_frame *tf)
{
	return (tf->cs & 3) != 0;
}

#endif

/* Issuing hypercalls through the hypercall page Xen fills in (one 32-byte
 * stub per hypercall: it knows vmcall from vmmcall). Arguments in rdi, rsi,
 * rdx, r10, r8; pointers are guest virtual addresses. */
#ifndef XEN_HYPERCALL_H
#define XEN_HYPERCALL_H

#include <stdint.h>
#include <xen/abi.h>

extern char xen_hypercall_page[];

static inline long xen_hypercall(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	register uint64_t rdi __asm__("rdi") = a1;
	register uint64_t rsi __asm__("rsi") = a2;
	register uint64_t rdx __asm__("rdx") = a3;
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	uintptr_t entry = (uintptr_t)xen_hypercall_page + op * XEN_HYPERCALL_STUB_SIZE;
	long ret;

	__asm__ __volatile__("call *%[entry]"
			     : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
			     : [entry] "r"(entry)
			     : "memory", "rcx", "r9", "r11");
	return ret;
}

#define HYPERVISOR_hvm_op(cmd, arg) xen_hypercall(__HYPERVISOR_hvm_op, (cmd), (uint64_t)(uintptr_t)(arg), 0, 0, 0)
#define HYPERVISOR_memory_op(cmd, arg) \
	xen_hypercall(__HYPERVISOR_memory_op, (cmd), (uint64_t)(uintptr_t)(arg), 0, 0, 0)
#define HYPERVISOR_event_channel_op(cmd, arg) \
	xen_hypercall(__HYPERVISOR_event_channel_op, (cmd), (uint64_t)(uintptr_t)(arg), 0, 0, 0)
#define HYPERVISOR_grant_table_op(cmd, arg, n) \
	xen_hypercall(__HYPERVISOR_grant_table_op, (cmd), (uint64_t)(uintptr_t)(arg), (n), 0, 0)
#define HYPERVISOR_sched_op(cmd, arg) xen_hypercall(__HYPERVISOR_sched_op, (cmd), (uint64_t)(uintptr_t)(arg), 0, 0, 0)
#define HYPERVISOR_multicall(calls, n) \
	xen_hypercall(__HYPERVISOR_multicall, (uint64_t)(uintptr_t)(calls), (n), 0, 0, 0)

#endif

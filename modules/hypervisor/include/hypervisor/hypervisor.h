/* The hypervisor the kernel runs on, and runtime disposal of the code built
 * for the others (modules/README.md, "Runtime disposal"). */
#ifndef HYPERVISOR_HYPERVISOR_H
#define HYPERVISOR_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The CPUID base (0x40000000 + k * 0x100, k < 256) whose leaf returns the
 * 12-byte signature sig in ebx, ecx, edx; 0 when none does. A hypervisor that
 * also offers another's interface puts that one first (Xen with Viridian has
 * "Microsoft Hv" at 0x40000000 and "XenVMMXenVMM" at 0x40000100). *max_leaf
 * (may be NULL) gets the base leaf's eax. */
uint32_t hypervisor_cpuid_base(const char sig[12], uint32_t *max_leaf);

/* Platforms with their own sections: "kvm", "xen", "hyperv", "vmware". */
bool hypervisor_detected(const char *platform);

/* False for an address inside a platform section that was freed: walkers of
 * link-time tables skip entries whose code is gone. */
bool hypervisor_code_present(const void *addr);

/* After time_init (clock sources probed): unmap and free the sections of
 * every platform not detected, and print how much that freed. */
void hypervisor_dispose_unused(void);

/* What disposal did, for self-tests and diagnostics. */
struct platform_sections {
	const char *name;
	uintptr_t start[4], end[4]; /* text, rodata, data, bss */
	bool disposed;
	size_t released; /* pages the allocator's free count rose by when they were freed */
};
size_t hypervisor_platforms(const struct platform_sections **out);

#endif

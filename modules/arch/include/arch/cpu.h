/* CPU control: registers, MSRs, CPUID, interrupt flag, features. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdint.h>
#include <stdbool.h>

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_NXE (1u << 11)

#define CR0_WP (1ul << 16)
#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR4_PGE (1ul << 7)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_FSGSBASE (1ul << 16)
#define CR4_OSXSAVE (1ul << 18)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)

#define RFLAGS_IF (1ul << 9)
#define RFLAGS_AC (1ul << 18)

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR(n)                                                            \
	static inline uint64_t read_cr##n(void)                                 \
	{                                                                       \
		uint64_t v;                                                     \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));           \
		return v;                                                       \
	}                                                                       \
	static inline void write_cr##n(uint64_t v)                              \
	{                                                                       \
		__asm__ __volatile__("mov %0, %%cr" #n : : "r"(v) : "memory");  \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_rflags(void)
{
	uint64_t f;
	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

static inline bool irqs_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

/* Disable interrupts and return whether they were enabled. */
static inline uint64_t irq_save(void)
{
	uint64_t f;
	__asm__ __volatile__("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f & RFLAGS_IF;
}

static inline void irq_restore(uint64_t was_enabled)
{
	if (was_enabled)
		irq_enable();
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static inline void hlt(void)
{
	__asm__ __volatile__("hlt" ::: "memory");
}

/* Atomically enable interrupts and halt until the next one (no lost wakeup). */
static inline void sti_hlt(void)
{
	__asm__ __volatile__("sti; hlt" ::: "memory");
}

static inline void invlpg(uintptr_t va)
{
	__asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void *read_frame_pointer(void)
{
	return __builtin_frame_address(0);
}

/* CPU features detected once by arch_init(). */
enum cpu_feature {
	CPU_NX,
	CPU_PGE,
	CPU_PDPE1GB,
	CPU_SMEP,
	CPU_SMAP,
	CPU_X2APIC,
	CPU_TSC_DEADLINE,
	CPU_INVARIANT_TSC,
	CPU_HYPERVISOR,
	CPU_FSGSBASE,
	CPU_XSAVE,
	CPU_RDTSCP,
	CPU_KVM,             /* KVM paravirt leaves present */
	CPU_KVMCLOCK,        /* kvmclock (new MSRs) advertised */
	CPU_NFEATURES
};

bool cpu_has(enum cpu_feature f);
/* Vendor string of the hypervisor (e.g. "KVMKVMKVM"), or "" on bare metal / TCG. */
const char *cpu_hypervisor_name(void);
/* Leaf 0x40000000 base of the KVM leaves (0 when absent). */
uint32_t cpu_kvm_base(void);

/* SMAP: bracket deliberate kernel accesses to user memory. */
static inline void uaccess_begin(void)
{
	if (cpu_has(CPU_SMAP))
		__asm__ __volatile__("stac" ::: "memory");
}

static inline void uaccess_end(void)
{
	if (cpu_has(CPU_SMAP))
		__asm__ __volatile__("clac" ::: "memory");
}

#endif

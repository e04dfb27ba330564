/* CPU feature detection and control-register setup. */
#include <arch/arch.h>
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <lib/string.h>

static bool features[CPU_NFEATURES];
static char hv_name[13];
static uint32_t kvm_base;

bool cpu_has(enum cpu_feature f)
{
	return f < CPU_NFEATURES && features[f];
}

const char *cpu_hypervisor_name(void)
{
	return hv_name;
}

uint32_t cpu_kvm_base(void)
{
	return kvm_base;
}

static void detect(void)
{
	uint32_t a, b, c, d, max, maxext;

	cpuid(0, 0, &max, &b, &c, &d);
	cpuid(1, 0, &a, &b, &c, &d);
	features[CPU_PGE] = d & (1u << 13);
	features[CPU_X2APIC] = c & (1u << 21);
	features[CPU_TSC_DEADLINE] = c & (1u << 24);
	features[CPU_XSAVE] = c & (1u << 26);
	features[CPU_HYPERVISOR] = c & (1u << 31);
	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		features[CPU_FSGSBASE] = b & (1u << 0);
		features[CPU_SMEP] = b & (1u << 7);
		features[CPU_SMAP] = b & (1u << 20);
	}
	cpuid(0x80000000, 0, &maxext, &b, &c, &d);
	if (maxext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		features[CPU_NX] = d & (1u << 20);
		features[CPU_PDPE1GB] = d & (1u << 26);
		features[CPU_RDTSCP] = d & (1u << 27);
	}
	if (maxext >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &c, &d);
		features[CPU_INVARIANT_TSC] = d & (1u << 8);
	}
	if (features[CPU_HYPERVISOR]) {
		/* Hypervisors may place their leaves at 0x40000000 + n*0x100. */
		for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
			uint32_t sig[3];
			cpuid(base, 0, &a, &sig[0], &sig[1], &sig[2]);
			if (base == 0x40000000)
				memcpy(hv_name, sig, 12);
			if (!memcmp(sig, "KVMKVMKVM\0\0\0", 12)) {
				kvm_base = base;
				features[CPU_KVM] = true;
				cpuid(base + 1, 0, &a, &b, &c, &d);
				features[CPU_KVMCLOCK] = a & (1u << 3); /* KVM_FEATURE_CLOCKSOURCE2 */
				break;
			}
		}
	}
}

void gdt_init(void);
void idt_init(void);
void idt_load(void);
void smp_arch_init(void);

/* User state components the kernel saves: x87, SSE, AVX, and AVX-512's
 * three (opmask, ZMM_Hi256, Hi16_ZMM) together. Not MPX (deprecated),
 * PKRU (no protection keys) or supervisor states. */
#define XFEATURES_USER (0x7ull | 0xe0ull)

/* XCR0 from CPUID 0xD's supported mask, and the XSAVE area's size for it;
 * the same on every CPU. Without room in ARCH_FPU_STATE_MAX, FXSAVE only. */
static void xstate_setup(void)
{
	uint32_t a, b, c, d;
	cpuid(0xd, 0, &a, &b, &c, &d);
	uint64_t mask = ((uint64_t)d << 32 | a) & XFEATURES_USER;
	if ((mask & 0xe0) != 0xe0)
		mask &= ~0xe0ull;
	if ((mask & 3) != 3)
		return;
	__asm__ __volatile__("xsetbv" : : "c"(0), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)));
	cpuid(0xd, 0, &a, &b, &c, &d); /* EBX: the size for what XCR0 now enables */
	if (b > ARCH_FPU_STATE_MAX || b < 576) {
		__asm__ __volatile__("xsetbv" : : "c"(0), "a"(3u), "d"(0u));
		return;
	}
	arch_xstate_size = b;
	arch_xcr0 = mask;
}

/* Control registers every CPU needs (the boot CPU and each AP). */
static void cpu_setup(void)
{
	/* FPU/SSE for applications: native x87 errors, no emulation, no lazy TS. */
	uint64_t cr0 = read_cr0();
	cr0 |= CR0_WP | CR0_MP;
	cr0 &= ~(CR0_EM | CR0_TS);
	write_cr0(cr0);

	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (features[CPU_PGE])
		cr4 |= CR4_PGE;
	if (features[CPU_SMEP])
		cr4 |= CR4_SMEP;
	if (features[CPU_SMAP])
		cr4 |= CR4_SMAP;
	if (features[CPU_XSAVE])
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	if (features[CPU_XSAVE])
		xstate_setup();

	if (features[CPU_NX])
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
}

void arch_init(void)
{
	detect();
	cpu_setup();
	gdt_init();
	idt_init();
	smp_arch_init();
}

void arch_init_ap(struct percpu *cpu, const uint64_t ist_top[3])
{
	cpu_setup();
	gdt_init_cpu(cpu, ist_top);
	idt_load();
}

void arch_halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* Hypervisor detection by the CPUID leaves at 0x40000000 + k * 0x100. */
#include <hypervisor/hypervisor.h>
#include <arch/cpu.h>
#include <lib/string.h>

static const struct {
	const char *platform;
	char sig[13];
} signatures[] = {
	{ "kvm", "KVMKVMKVM\0\0\0" },
	{ "xen", "XenVMMXenVMM" },
	{ "hyperv", "Microsoft Hv" },
	{ "vmware", "VMwareVMware" },
};
#define NSIG (sizeof(signatures) / sizeof(signatures[0]))

uint32_t hypervisor_cpuid_base(const char sig[12], uint32_t *max_leaf)
{
	if (!cpu_has(CPU_HYPERVISOR))
		return 0;
	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		uint32_t r[4];
		cpuid(base, 0, &r[0], &r[1], &r[2], &r[3]);
		if (!memcmp(&r[1], sig, 12)) {
			if (max_leaf)
				*max_leaf = r[0];
			return base;
		}
	}
	return 0;
}

bool hypervisor_detected(const char *platform)
{
	/* One scan (256 CPUID exits at most) answers for every platform. */
	static bool scanned, found[NSIG];

	if (!scanned) {
		for (uint32_t base = 0x40000000; cpu_has(CPU_HYPERVISOR) && base < 0x40010000; base += 0x100) {
			uint32_t r[4];
			cpuid(base, 0, &r[0], &r[1], &r[2], &r[3]);
			for (size_t i = 0; i < NSIG; i++)
				found[i] |= !memcmp(&r[1], signatures[i].sig, 12);
		}
		scanned = true;
	}
	for (size_t i = 0; i < NSIG; i++)
		if (!strcmp(signatures[i].platform, platform))
			return found[i];
	return false;
}

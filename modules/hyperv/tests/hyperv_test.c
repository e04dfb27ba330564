/* An image with Hyper-V support that boots elsewhere (QEMU here): Hyper-V is
 * not detected, its code was disposed of at boot (so nothing of it is called
 * here), and the clock is not the reference TSC page. The protocol code
 * itself is tested on the host (tests/hyperv). */
#include <selftest/selftest.h>
#include <hyperv/hyperv.h>
#include <hypervisor/hypervisor.h>
#include <lib/string.h>
#include <time/clock.h>

SELFTEST(hyperv_absent, "hyperv.absent")
{
	if (hypervisor_detected("hyperv"))
		return; /* on Hyper-V: nothing to check here */
	ST_EXPECT(!hypervisor_code_present((const void *)hv_init));
	ST_EXPECT(!hypervisor_code_present((const void *)hv_post_message));
	ST_EXPECT(strcmp(clock_source_name(), "hyperv_tsc") != 0);
}

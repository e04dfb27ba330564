/* Hyper-V support in an image that boots elsewhere (QEMU here): detection
 * says no, nothing is enabled, the clock is not the reference TSC page;
 * and the TLFS arithmetic gives the same answers in the kernel (its divq,
 * no libgcc) as in the host tests. */
#include <selftest/selftest.h>
#include <hyperv/hyperv.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <time/clock.h>

SELFTEST(hyperv_absent, "hyperv.absent")
{
	ST_EXPECT(!hv_init());
	ST_EXPECT(!hv_present());
	ST_EXPECT_EQ(hv_features(), 0);
	ST_EXPECT_EQ(hv_post_message(1, 1, "x", 1), -ENODEV);
	ST_EXPECT_EQ(hv_signal_event(1, 0), -ENODEV);
	ST_EXPECT(strcmp(clock_source_name(), "hyperv_tsc") != 0);
}

SELFTEST(hyperv_tlfs, "hyperv.tlfs")
{
	uint64_t scale = 0xffffffffffffffffull / 250; /* a 2.5 GHz TSC */
	uint64_t hz = hv_ref_tsc_hz(scale);
	ST_EXPECT_GE(hz, 2500000000ull);
	ST_EXPECT_LE(hz, 2500000001ull);
	ST_EXPECT_EQ(hv_ref_tsc_time(2500000000ull, scale, 0), 9999999);
	ST_EXPECT_EQ(hv_hypercall_input(HVCALL_SIGNAL_EVENT, true, 0), 0x1005d);
}

/* CONFIG_SELFTEST_FAIL_DEMO: a test in "all" that always fails. */
#include <selftest/selftest.h>
#include <lib/string.h>

SELFTEST(fail_demo, "selftest.fail_demo")
{
	ST_EXPECT_STREQ("what the demo got", "expected");
}

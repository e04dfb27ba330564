/* The self-test runner: an INIT_MAIN initcall that runs when osvb.selftest is
 * on the command line, then leaves the VM with the result. */
#include <selftest/selftest.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <hypervisor/hypervisor.h>
#include <init/initcall.h>
#include <lib/panic.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <sched/thread.h>
#include <shutdown/shutdown.h>

KTABLE_DEFINE(struct selftest, selftest);

CMDLINE_OPTION(selftest, "selftest", "run in-kernel self-tests: all, or a comma list of names and prefix* patterns");

void selftest_fail(struct selftest_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Report source paths from modules/ on, as they appear in the repository. */
	const char *m = strstr(file, "modules/");
	printk(LOG_EMERG, "selftest: %s: %s:%d: %s\n", ctx->name, m ? m : file, line, msg);
	ctx->failures++;
}

/* Does pattern p (of length n) select test t? */
static bool matches(const struct selftest *t, const char *p, size_t n)
{
	if (n == 3 && !strncmp(p, "all", 3))
		return !(t->flags & SELFTEST_EXPLICIT);
	if (n > 0 && p[n - 1] == '*')
		return !(t->flags & SELFTEST_EXPLICIT) && !strncmp(t->name, p, n - 1);
	return strlen(t->name) == n && !strncmp(t->name, p, n);
}

static bool selected(const struct selftest *t, const char *spec)
{
	for (const char *p = spec; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (matches(t, p, n))
			return true;
		p += n + (comma ? 1 : 0);
	}
	return false;
}

static void run_one(void *arg)
{
	struct selftest_ctx *ctx = arg;
	const struct selftest *t;

	ktable_foreach(t, selftest)
		if (hypervisor_code_present(t->fn) && t->name == ctx->name)
			t->fn(ctx);
}

static int selftest_main(void)
{
	const char *spec = cmdline_get("selftest");
	const struct selftest *t;
	int passed = 0, failed = 0;

	if (!spec)
		return 0;
	if (!*spec)
		spec = "all";

	/* Every pattern must select something: a typo must not pass as "0 failed". */
	for (const char *p = spec; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		bool any = false;
		ktable_foreach(t, selftest)
			any |= hypervisor_code_present(t->fn) && matches(t, p, n);
		if (!any && n) {
			printk(LOG_EMERG, "selftest: no test matches \"%.*s\"\n", (int)n, p);
			failed++;
		}
		p += n + (comma ? 1 : 0);
	}

	/* Run in name order, whatever order the linker placed them in. */
	const struct selftest *prev = NULL;
	for (;;) {
		const struct selftest *it;
		t = NULL;
		ktable_foreach(it, selftest)
			if (hypervisor_code_present(it->fn) && (!prev || strcmp(it->name, prev->name) > 0) && (!t || strcmp(it->name, t->name) < 0))
				t = it;
		if (!t)
			break;
		prev = t;
		if (!selected(t, spec))
			continue;
		struct selftest_ctx ctx = { t->name, 0 };
		/* Each test in its own thread: a fresh stack, and a test that leaves
		 * preemption or interrupts off cannot affect the next one. */
		struct thread *th = thread_create(t->name, run_one, &ctx);
		if (!th)
			panic("selftest: cannot create a thread for %s", t->name);
		thread_join(th);
		printk(LOG_EMERG, "selftest: %s ... %s\n", t->name, ctx.failures ? "FAIL" : "ok");
		if (ctx.failures)
			failed++;
		else
			passed++;
	}
	printk(LOG_EMERG, "selftest: %d passed, %d failed\n", passed, failed);
	shutdown_exit(failed ? 1 : 0);
}
INITCALL(INIT_MAIN, selftest_main);

/* Tests of the harness and of the failure paths; only run when named. */
SELFTEST_FLAGS(fail_on_purpose, "selftest.fail_on_purpose", SELFTEST_EXPLICIT)
{
	ST_EXPECT_EQ(1 + 1, 3);
}

SELFTEST_FLAGS(panic_on_purpose, "selftest.panic_on_purpose", SELFTEST_EXPLICIT)
{
	panic("selftest: panic on purpose");
}

SELFTEST_FLAGS(page_fault, "selftest.page_fault", SELFTEST_EXPLICIT)
{
	volatile int *unmapped = (volatile int *)16;
	__asm__("" : "+r"(unmapped)); /* hide the constant from the optimiser's bounds checks */
	ST_EXPECT(*unmapped == 0);     /* must fault, report and panic */
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int __attribute__((noinline)) recurse(volatile int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	return recurse(depth + 1) + pad[0];
}
#pragma GCC diagnostic pop

SELFTEST_FLAGS(stack_overflow, "selftest.stack_overflow", SELFTEST_EXPLICIT)
{
	ST_EXPECT(recurse(0) == 0); /* runs into the guard page below the stack */
}

/*
 * In-kernel self-tests (KUnit-like). A module adds tests in files built only
 * when CONFIG_SELFTEST is set:
 *
 *   SELFTEST(page_alloc, "mm.page_alloc") { ST_ASSERT(page_alloc(0, 0)); ... }
 *
 * osvb.selftest=all runs every test (except explicit-only ones); a comma list
 * of names or "prefix*" patterns selects some. Each test runs in its own
 * kernel thread. Output: "selftest: <name> ... ok|FAIL" per test and
 * "selftest: N passed, M failed"; the kernel then exits 0 when all passed,
 * 1 otherwise.
 */
#ifndef SELFTEST_SELFTEST_H
#define SELFTEST_SELFTEST_H

#include <stdbool.h>
#include <lib/compiler.h>
#include <lib/ktable.h>

struct selftest_ctx {
	const char *name;
	int failures;
};

/* Run only when named exactly (tests that fail, panic or crash on purpose). */
#define SELFTEST_EXPLICIT (1u << 0)

struct selftest {
	const char *name;
	void (*fn)(struct selftest_ctx *ctx);
	uint64_t flags;
};
KTABLE_DECLARE(struct selftest, selftest);

#define SELFTEST_FLAGS(ident, name, flags)                                                 \
	static void __st_##ident(struct selftest_ctx *ctx);                               \
	KTABLE_ENTRY(struct selftest, selftest, 5, __selftest_##ident) = { name, __st_##ident, \
									   flags };           \
	static void __st_##ident(struct selftest_ctx *ctx __unused)

#define SELFTEST(ident, name) SELFTEST_FLAGS(ident, name, 0)

void selftest_fail(struct selftest_ctx *ctx, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

/* EXPECT records a failure and continues; ASSERT also returns from the test. */
#define ST_EXPECT(cond)                                                             \
	({                                                                          \
		bool __c = (cond);                                                  \
		if (!__c)                                                           \
			selftest_fail(ctx, __FILE__, __LINE__, "expected %s", #cond); \
		__c;                                                                \
	})
#define ST_ASSERT(cond)               \
	do {                          \
		if (!ST_EXPECT(cond)) \
			return;       \
	} while (0)

#define ST_EXPECT_EQ(a, b)                                                                       \
	({                                                                                       \
		long long __a = (long long)(a), __b = (long long)(b);                            \
		bool __ok = __a == __b;                                                          \
		if (!__ok)                                                                       \
			selftest_fail(ctx, __FILE__, __LINE__, "expected %s == %s (%lld != %lld)", \
				      #a, #b, __a, __b);                                         \
		__ok;                                                                            \
	})
#define ST_ASSERT_EQ(a, b)                 \
	do {                               \
		if (!ST_EXPECT_EQ(a, b))   \
			return;            \
	} while (0)

/* Ordered comparisons (unsigned), printing both values on failure. */
#define __ST_CMP(a, op, b)                                                                         \
	({                                                                                         \
		unsigned long long __a = (unsigned long long)(a), __b = (unsigned long long)(b);   \
		bool __ok = __a op __b;                                                            \
		if (!__ok)                                                                         \
			selftest_fail(ctx, __FILE__, __LINE__, "expected %s %s %s (%llu vs %llu)", \
				      #a, #op, #b, __a, __b);                                      \
		__ok;                                                                              \
	})
#define ST_EXPECT_LE(a, b) __ST_CMP(a, <=, b)
#define ST_EXPECT_GE(a, b) __ST_CMP(a, >=, b)
#define ST_EXPECT_LT(a, b) __ST_CMP(a, <, b)

#define ST_EXPECT_STREQ(a, b)                                                                     \
	({                                                                                        \
		const char *__a = (a), *__b = (b);                                                \
		bool __ok = !strcmp(__a, __b);                                                    \
		if (!__ok)                                                                        \
			selftest_fail(ctx, __FILE__, __LINE__, "expected %s == \"%s\" (got \"%s\")", \
				      #a, __b, __a);                                              \
		__ok;                                                                             \
	})

#endif

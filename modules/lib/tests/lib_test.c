#include <selftest/selftest.h>
#include <lib/list.h>
#include <lib/printf.h>
#include <lib/string.h>

static bool fmt_is(const char *expect, const char *fmt, ...) __printf(2, 3);
static bool fmt_is(const char *expect, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return !strcmp(buf, expect) && n == (int)strlen(expect);
}

SELFTEST(vsnprintf, "lib.vsnprintf")
{
	ST_EXPECT(fmt_is("42 -7 0", "%d %i %u", 42, -7, 0));
	ST_EXPECT(fmt_is("ff FF 0xff 377", "%x %X %#x %o", 255, 255, 255, 255));
	ST_EXPECT(fmt_is("  5|5  |00005", "%3d|%-3d|%05d", 5, 5, 5));
	ST_EXPECT(fmt_is("-0005|+5| 5", "%05d|%+d|% d", -5, 5, 5));
	ST_EXPECT(fmt_is("18446744073709551615 -9223372036854775808", "%lu %lld", ~0ul,
			 (long long)(-9223372036854775807ll - 1)));
	const char *null = NULL;
	__asm__("" : "+r"(null)); /* printing NULL on purpose */
	ST_EXPECT(fmt_is("abc|ab|  abc|abc  |(null)", "%s|%.2s|%5s|%-5s|%s", "abc", "abc", "abc", "abc", null));
	ST_EXPECT(fmt_is("x%c", "x%c", '%') || fmt_is("x%", "x%c", '%'));
	ST_EXPECT(fmt_is("100%", "100%%"));
	ST_EXPECT(fmt_is("0xffffffff80100000", "%p", (void *)0xffffffff80100000ul));
	ST_EXPECT(fmt_is("  7|007", "%*d|%.*d", 3, 7, 3, 7));
	ST_EXPECT(fmt_is("-1 255 65535", "%hhd %hhu %hu", -1, 255, 65535));

	/* Truncation: NUL-terminated, returns the full length. */
	char small[5];
	ST_EXPECT_EQ(snprintf(small, sizeof(small), "%s", "abcdefgh"), 8);
	ST_EXPECT_STREQ(small, "abcd");
	ST_EXPECT_EQ(snprintf(NULL, 0, "%d", 12345), 5);
}

SELFTEST(string, "lib.string")
{
	char buf[32];

	ST_EXPECT_EQ(strlen(""), 0);
	ST_EXPECT_EQ(strlen("hello"), 5);
	ST_EXPECT(strcmp("a", "b") < 0 && strcmp("b", "a") > 0 && strcmp("abc", "abc") == 0);
	ST_EXPECT(strncmp("abcx", "abcy", 3) == 0 && strncmp("abcx", "abcy", 4) < 0);
	ST_EXPECT(strchr("hello", 'l') == (const char *)"hello" + 2 || *strchr("hello", 'l') == 'l');
	ST_EXPECT(strrchr("hello", 'l') && strrchr("hello", 'l')[1] == 'o');
	ST_EXPECT(strstr("osvb.selftest", "self") && !strcmp(strstr("osvb.selftest", "self"), "selftest"));
	ST_EXPECT(strstr("abc", "abd") == NULL);
	ST_EXPECT_EQ(strlcpy(buf, "truncate me please", 9), 18);
	ST_EXPECT_STREQ(buf, "truncate");

	/* memmove in both directions, memset/memcpy over odd lengths. */
	for (int i = 0; i < 32; i++)
		buf[i] = (char)i;
	memmove(buf + 3, buf, 20);
	ST_EXPECT(buf[3] == 0 && buf[22] == 19);
	memmove(buf, buf + 3, 20);
	ST_EXPECT(buf[0] == 0 && buf[19] == 19);
	memset(buf, 0xab, 13);
	ST_EXPECT((unsigned char)buf[12] == 0xab && buf[13] == 13);
	memcpy(buf + 1, "0123456789", 11);
	ST_EXPECT_STREQ(buf + 1, "0123456789");
	ST_EXPECT(memcmp("abc", "abd", 3) < 0 && memcmp("abc", "abc", 3) == 0);

	char *end;
	ST_EXPECT_EQ(strtoull("0x1f", &end, 0), 31);
	ST_EXPECT_EQ(strtoull("0755", NULL, 0), 493);
	ST_EXPECT_EQ(strtoll("-42z", &end, 10), -42);
	ST_EXPECT(*end == 'z');
}

struct item {
	int v;
	struct list node;
};

SELFTEST(list, "lib.list")
{
	struct list l = LIST_INIT(l);
	struct item it[4], *pos;
	int order[4], k = 0;

	ST_EXPECT(list_empty(&l));
	for (int i = 0; i < 4; i++) {
		it[i].v = i;
		list_push_back(&l, &it[i].node);
	}
	list_remove(&it[1].node);
	list_push_front(&l, &it[1].node);
	list_for_each_entry(pos, &l, node)
		order[k++] = pos->v;
	ST_ASSERT_EQ(k, 4);
	ST_EXPECT(order[0] == 1 && order[1] == 0 && order[2] == 2 && order[3] == 3);
	ST_EXPECT(list_entry(list_pop_front(&l), struct item, node)->v == 1);
	ST_EXPECT(!list_empty(&l));
}

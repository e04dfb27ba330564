/* Kernel log output. Messages below the current level (osvb.loglevel, default
 * CONFIG_LOG_DEFAULT_LEVEL) are dropped. Lines are not interleaved between CPUs
 * or threads. */
#ifndef CONSOLE_PRINTK_H
#define CONSOLE_PRINTK_H

#include <stdarg.h>
#include <lib/compiler.h>

enum {
	LOG_EMERG = 0,
	LOG_ALERT = 1,
	LOG_CRIT = 2,
	LOG_ERR = 3,
	LOG_WARN = 4,
	LOG_NOTICE = 5,
	LOG_INFO = 6,
	LOG_DEBUG = 7,
};

void printk(int level, const char *fmt, ...) __printf(2, 3);
void vprintk(int level, const char *fmt, va_list ap);
/* Unconditional, lock-free output for panic and fault paths. */
void printk_raw(const char *fmt, ...) __printf(1, 2);
/* Write raw bytes to the kernel log (COM4, else COM1). */
void console_write(const char *s, size_t n);

void console_set_loglevel(int level);
int console_get_loglevel(void);

#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_notice(...) printk(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

#endif

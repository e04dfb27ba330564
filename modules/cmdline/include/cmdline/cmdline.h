/*
 * Kernel command line. "osvb.<name>=<value>" options are parsed once at boot;
 * everything else is kept, in order, for the application. Values may be
 * double-quoted to contain spaces. Modules declare the options they read with
 * CMDLINE_OPTION so unknown ones can be reported (typos should not pass silently).
 */
#ifndef CMDLINE_CMDLINE_H
#define CMDLINE_CMDLINE_H

#include <stdbool.h>
#include <lib/ktable.h>

#define CMDLINE_MAX_ARGS 128

void cmdline_init(const char *s);

/* Value of osvb.<name>; "" when given without '='; NULL when absent. The last
 * occurrence wins. */
const char *cmdline_get(const char *name);
long long cmdline_get_int(const char *name, long long def);
/* Absent -> def; "", 1, y, yes, on, true -> true; 0, n, no, off, false -> false. */
bool cmdline_get_bool(const char *name, bool def);

/* Arguments that are not osvb.* options (for the application). */
int cmdline_app_argc(void);
const char *cmdline_app_arg(int i);

struct cmdline_option {
	const char *name;
	const char *help;
};
KTABLE_DECLARE(struct cmdline_option, cmdline_opt);
#define CMDLINE_OPTION(ident, name, help) \
	KTABLE_ENTRY(struct cmdline_option, cmdline_opt, 5, __cmdline_opt_##ident) = { name, help }

/*
 * Other modules' kernel parameters in Linux's "module.param=value" form that
 * are not osvb.* options, e.g. virtio_mmio.device=, which QEMU microvm appends
 * to the command line. A word "name=value" whose name is declared with
 * CMDLINE_PARAM is kept from the application (wherever it appears, even
 * after "--") and read with cmdline_param_count/cmdline_param.
 */
struct cmdline_param {
	const char *name;
	const char *help;
};
KTABLE_DECLARE(struct cmdline_param, cmdline_param);
#define CMDLINE_PARAM(ident, name, help) \
	KTABLE_ENTRY(struct cmdline_param, cmdline_param, 5, __cmdline_param_##ident) = { name, help }
int cmdline_param_count(const char *name);
/* The value of the i-th occurrence of name=, in command-line order; NULL past the end. */
const char *cmdline_param(const char *name, int i);

#endif

#include <cmdline/cmdline.h>
#include <boot/boot_info.h>
#include <console/printk.h>
#include <lib/string.h>

KTABLE_DEFINE(struct cmdline_option, cmdline_opt);
KTABLE_DEFINE(struct cmdline_param, cmdline_param);

CMDLINE_OPTION(loglevel, "loglevel", "console log level 0-7");

static char buf[BOOT_CMDLINE_MAX];
static const char *opt_name[CMDLINE_MAX_ARGS];
static const char *opt_value[CMDLINE_MAX_ARGS];
static int nopts;
static const char *app_args[CMDLINE_MAX_ARGS];
static int napp;
static const char *param_name[CMDLINE_MAX_ARGS];
static const char *param_value[CMDLINE_MAX_ARGS];
static int nparams;

/* Is the word name=value with a name some module declared? */
static bool declared_param(const char *word)
{
	const struct cmdline_param *p;
	const char *eq = strchr(word, '=');

	if (!eq)
		return false;
	ktable_foreach(p, cmdline_param)
		if (strlen(p->name) == (size_t)(eq - word) && !strncmp(p->name, word, eq - word))
			return true;
	return false;
}

static bool known(const char *name)
{
	const struct cmdline_option *o;

	ktable_foreach(o, cmdline_opt)
		if (!strcmp(o->name, name))
			return true;
	return false;
}

void cmdline_init(const char *s)
{
	char *p = buf;
	bool overflow = false;

	strlcpy(buf, s, sizeof(buf));
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		/* Take one word; quotes group, and are removed. */
		char *start = p, *w = p;
		bool quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				*w++ = *p;
		}
		if (*p)
			p++;
		*w = 0;

		if (!strncmp(start, "osvb.", 5)) {
			if (nopts == CMDLINE_MAX_ARGS) {
				overflow = true;
				continue;
			}
			char *name = start + 5, *eq = strchr(name, '=');
			if (eq)
				*eq = 0;
			opt_name[nopts] = name;
			opt_value[nopts++] = eq ? eq + 1 : "";
		} else if (declared_param(start)) {
			if (nparams == CMDLINE_MAX_ARGS) {
				overflow = true;
				continue;
			}
			char *eq = strchr(start, '=');
			*eq = 0;
			param_name[nparams] = start;
			param_value[nparams++] = eq + 1;
		} else if (napp < CMDLINE_MAX_ARGS) {
			app_args[napp++] = start;
		} else {
			overflow = true;
		}
	}
	if (overflow)
		printk(LOG_WARN, "cmdline: more than %d arguments; ignoring the rest\n", CMDLINE_MAX_ARGS);
	for (int i = 0; i < nopts; i++)
		if (!known(opt_name[i]))
			printk(LOG_WARN, "cmdline: unknown option osvb.%s (ignored)\n", opt_name[i]);
}

const char *cmdline_get(const char *name)
{
	for (int i = nopts - 1; i >= 0; i--)
		if (!strcmp(opt_name[i], name))
			return opt_value[i];
	return NULL;
}

long long cmdline_get_int(const char *name, long long def)
{
	const char *v = cmdline_get(name);
	char *end;

	if (!v || !*v)
		return def;
	long long n = strtoll(v, &end, 0);
	if (*end) {
		printk(LOG_WARN, "cmdline: osvb.%s=%s is not a number; using %lld\n", name, v, def);
		return def;
	}
	return n;
}

bool cmdline_get_bool(const char *name, bool def)
{
	const char *v = cmdline_get(name);

	if (!v)
		return def;
	if (!*v || !strcmp(v, "1") || !strcmp(v, "y") || !strcmp(v, "yes") || !strcmp(v, "on") ||
	    !strcmp(v, "true"))
		return true;
	if (!strcmp(v, "0") || !strcmp(v, "n") || !strcmp(v, "no") || !strcmp(v, "off") ||
	    !strcmp(v, "false"))
		return false;
	printk(LOG_WARN, "cmdline: osvb.%s=%s is not a boolean; using %s\n", name, v, def ? "on" : "off");
	return def;
}

int cmdline_app_argc(void)
{
	return napp;
}

const char *cmdline_app_arg(int i)
{
	return i >= 0 && i < napp ? app_args[i] : NULL;
}

int cmdline_param_count(const char *name)
{
	int n = 0;
	for (int i = 0; i < nparams; i++)
		n += !strcmp(param_name[i], name);
	return n;
}

const char *cmdline_param(const char *name, int idx)
{
	for (int i = 0; i < nparams; i++)
		if (!strcmp(param_name[i], name) && idx-- == 0)
			return param_value[i];
	return NULL;
}

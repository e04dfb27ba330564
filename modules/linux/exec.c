/* execve: replace the program of the calling process. Arguments are copied
 * in and the new file is checked before the old image is dropped, so most
 * failures return an error to the caller; a failure after that point ends
 * the process, as on Linux. "#!" scripts run their interpreter. The other
 * threads of a multi-threaded caller end first; the caller takes the
 * process's pid as its thread id. */
#include "internal.h"
#include "calls.h"
#include <console/printk.h>
#include <elf/elf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>

#define EXEC_ARGS_MAX (256u << 10)
#define EXEC_NARGS_MAX 4096

struct strvec {
	const char **v;
	int n;
};

struct arena {
	char *buf;
	size_t used;
};

static const char *arena_add(struct arena *a, const char *s, size_t len)
{
	if (a->used + len + 1 > EXEC_ARGS_MAX)
		return NULL;
	char *p = a->buf + a->used;
	memcpy(p, s, len);
	p[len] = 0;
	a->used += len + 1;
	return p;
}

/* Copy a NULL-terminated user array of strings (uvec may be NULL: empty). */
static int copy_strvec(uint64_t uvec, struct arena *a, struct strvec *out, int reserve)
{
	out->n = 0;
	out->v = kmalloc(sizeof(char *) * (EXEC_NARGS_MAX + reserve + 1));
	if (!out->v)
		return -ENOMEM;
	for (int i = 0; uvec; i++) {
		uint64_t p;
		if (i >= EXEC_NARGS_MAX)
			return -E2BIG;
		if (get_user_u64(&p, (const uint64_t *)(uvec + 8 * i)))
			return -EFAULT;
		if (!p)
			break;
		if (a->used >= EXEC_ARGS_MAX)
			return -E2BIG;
		long n = strncpy_from_user(a->buf + a->used, (const char *)p, EXEC_ARGS_MAX - a->used);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : n;
		out->v[reserve + out->n++] = a->buf + a->used;
		a->used += n + 1;
	}
	return 0;
}

/* "#!interp [arg]" -> interp and arg (pointing into line). 1 when it is a script. */
static int parse_shebang(char *line, size_t n, char **interp, char **arg)
{
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return 0;
	char *end = memchr(line, '\n', n);
	if (!end)
		return -ENOEXEC;
	*end = 0;
	char *p = line + 2;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return -ENOEXEC;
	*interp = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*arg = NULL;
	if (*p) {
		*p++ = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		char *e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (*p)
			*arg = p;
	}
	return 1;
}

/* Open path for execution and read its first bytes into head. */
static int read_head(const char *path, char *head, size_t *headlen, uint64_t *size)
{
	struct file *f;
	int r = vfs_open(NULL, path, O_RDONLY, 0, &f);
	if (r)
		return r;
	if (!S_ISREG(f->inode->mode) || !(f->inode->mode & 0111)) {
		file_put(f);
		return -EACCES;
	}
	ssize_t n = vfs_pread_full(f, head, 256, 0);
	*size = f->inode->size;
	file_put(f);
	if (n < 0)
		return n;
	*headlen = n;
	return 0;
}

/* Can path be executed at all (exists, executable, an ELF file we accept or a script)? */
static int precheck(const char *path, char *head, size_t *headlen)
{
	uint64_t size;
	int r = read_head(path, head, headlen, &size);
	if (r)
		return r;
	if (*headlen >= 2 && head[0] == '#' && head[1] == '!')
		return 0;
	const char *why;
	if (*headlen < sizeof(struct elf64_ehdr) || elf_check_header((const struct elf64_ehdr *)head, size, &why))
		return -ENOEXEC;
	return 0;
}

int exec_script_interp(const char *path, char *head, char **interp, char **arg)
{
	size_t hl = 0;
	uint64_t size;
	int r = read_head(path, head, &hl, &size);
	if (r)
		return r;
	return parse_shebang(head, hl, interp, arg);
}

/* Make every other thread of the caller's process leave, and wait for it. */
static void kill_other_threads(struct uthread *self)
{
	struct process *p = self->process;
	uint64_t f = spin_lock_irqsave(&p->lock);
	struct uthread *t;
	list_for_each_entry(t, &p->threads, node) {
		if (t == self)
			continue;
		t->zap = true;
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* see signal_pending() */
		if (t->sleeping)
			thread_wake(t->kt);
		else if (t->kt)
			thread_kick(t->kt);
	}
	spin_unlock_irqrestore(&p->lock, f);
	process_notify();
	while (READ_ONCE(p->nthreads) > 1) {
		if (self->zap)
			thread_exit_user(0); /* the whole process is being killed */
		thread_sleep_ns(100000);
	}
	self->tid = p->pid;
}

SYSCALL(59, execve, 3)
{
	char *path = NULL, *head = NULL, *script_path = NULL;
	struct arena a = { 0 };
	struct strvec argv = { 0 }, envp = { 0 };
	long r;

	if ((r = user_path((const char *)a0, &path)))
		return r;
	a.buf = kmalloc(EXEC_ARGS_MAX);
	head = kmalloc(257);
	if (!a.buf || !head) {
		r = -ENOMEM;
		goto out;
	}
	/* Two slots before argv for a script's interpreter and its argument. */
	if ((r = copy_strvec(a1, &a, &argv, 2)) || (r = copy_strvec(a2, &a, &envp, 0)))
		goto out;
	size_t hl = 0;
	if ((r = precheck(path, head, &hl)))
		goto out;
	const char **av = argv.v + 2;
	int ac = argv.n;
	const char *prog = path;
	char *interp, *iarg;
	int s = parse_shebang(head, hl, &interp, &iarg);
	if (s < 0) {
		r = s;
		goto out;
	}
	if (s) {
		/* argv: interp [arg] path argv[1..] */
		script_path = path;
		const char *ip = arena_add(&a, interp, strlen(interp));
		const char *ia = iarg ? arena_add(&a, iarg, strlen(iarg)) : NULL;
		if (!ip || (iarg && !ia)) {
			r = -E2BIG;
			goto out;
		}
		if (ac > 0) {
			av[0] = script_path;
		} else {
			av[0] = script_path;
			ac = 1;
		}
		*--av = ia ? ia : ip;
		ac++;
		if (ia) {
			*--av = ip;
			ac++;
		}
		prog = ip;
		if ((r = precheck(prog, head, &hl)))
			goto out;
		if (hl >= 2 && head[0] == '#' && head[1] == '!') {
			r = -ELOOP; /* an interpreter that is itself a script */
			goto out;
		}
	}
	av[ac] = NULL;
	envp.v[envp.n] = NULL;

	/* The point of no return: drop the old program. */
	struct uthread *ut = current_uthread();
	kill_other_threads(ut);
	fd_close_on_exec();
	signal_reset_on_exec();
	posix_timers_release(&proc); /* POSIX timers do not survive exec */
	ut->clear_child_tid = 0;
	ut->robust_list = 0;
	r = process_exec(prog, av, ac, envp.v, envp.n);
	printk(LOG_ERR, "osvb: execve of %s failed after the old program was dropped (error %ld)\n", prog, r);
	process_kill(SIGKILL);
out:
	kfree(argv.v);
	kfree(envp.v);
	kfree(a.buf);
	kfree(head);
	kfree(path);
	return r;
}

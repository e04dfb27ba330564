/*
 * fork emulation. There is one address space, so a forked child cannot run
 * beside its parent. Instead the parent is set aside: its memory (every area
 * and resident page), descriptors, working directory, signal actions and
 * registers are copied, and the same kernel thread carries on as the child
 * (fork returns 0). When the child exits (or is killed), the parent's state is
 * put back and fork returns the child's pid in the parent; wait4 then reports
 * the child's status. The child may execve; the parent's copy is untouched.
 *
 * Differences from Linux: parent and child never run at the same time (a
 * child that waits for its parent, or fills a pipe nobody reads yet, blocks
 * forever), forking costs a copy of the resident memory, and only a
 * single-threaded program may fork. This is enough for shells running
 * commands one after another (busybox sh) and for fork+exec / vfork+exec.
 */
#include "internal.h"
#include <arch/cpu.h>
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>

#define CLONE_SETTLS 0x00080000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID 0x01000000

struct saved_parent {
	struct saved_parent *up;
	struct trap_frame tf;
	struct uvm_snapshot *mem;
	void *fds;
	struct inode *cwd;
	uint32_t umask;
	struct ksigaction actions[NSIG];
	uint64_t sigmask, fs_base, gs_base, altstack_sp, altstack_size, clear_child_tid, robust_list;
	int altstack_flags;
	struct fpu_state fpu;
	int pid, child_pid;
	char exe[VFS_PATH_MAX];
};

struct zombie {
	struct list node;
	int pid, parent, wstatus;
};

static struct saved_parent *parents;
static struct list zombies = LIST_INIT(zombies);

bool fork_in_child(void)
{
	return parents != NULL;
}

int fork_parent_pid(void)
{
	return parents ? parents->pid : 0;
}

long fork_child(uint64_t flags, uint64_t newsp, uint64_t child_tid, uint64_t tls)
{
	struct uthread *ut = current_uthread();
	static bool told;

#ifndef CONFIG_LINUX_FORK
	(void)flags, (void)newsp, (void)child_tid, (void)tls, (void)ut, (void)told;
	return -ENOSYS; /* one process: fork is configured out (LINUX_FORK) */
#endif
	if (proc.nthreads > 1) {
		if (!told) {
			told = true;
			printk(LOG_WARN, "osvb: %s: fork from a program with %d threads is not supported\n", proc.comm,
			       proc.nthreads);
		}
		return -ENOSYS;
	}
	struct saved_parent *p = kzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->mem = uvm_snapshot();
	p->fds = p->mem ? fd_table_save() : NULL;
	if (!p->mem || !p->fds) {
		if (p->mem)
			uvm_restore(p->mem); /* nothing changed: puts the same memory back */
		kfree(p);
		return -ENOMEM;
	}
	p->tf = *ut->frame;
	p->cwd = inode_get(vfs_cwd());
	p->umask = proc.umask;
	memcpy(p->actions, proc.actions, sizeof(p->actions));
	p->sigmask = ut->sigmask;
	p->fs_base = ut->fs_base;
	p->gs_base = ut->gs_base;
	p->altstack_sp = ut->altstack_sp;
	p->altstack_size = ut->altstack_size;
	p->altstack_flags = ut->altstack_flags;
	p->clear_child_tid = ut->clear_child_tid;
	p->robust_list = ut->robust_list;
	fpu_save(ut, &p->fpu);
	p->pid = proc.pid;
	p->child_pid = alloc_tid() + 1;
	strlcpy(p->exe, proc.exe, sizeof(p->exe));
	p->up = parents;
	parents = p;

	/* From here on this thread is the child. */
	proc.pid = ut->tid = p->child_pid;
	if (flags & CLONE_CHILD_SETTID)
		put_user_u32((uint32_t *)child_tid, p->child_pid);
	ut->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? child_tid : 0;
	if (newsp)
		ut->frame->rsp = newsp;
	if ((flags & CLONE_SETTLS) && tls < USER_TOP) {
		ut->fs_base = tls;
		wrmsr(MSR_FS_BASE, tls);
	}
	return 0;
}

void fork_child_exit(int wstatus)
{
	struct uthread *ut = current_uthread();
	struct saved_parent *p = parents;
	struct zombie *z = kmalloc(sizeof(*z));

	if (z) {
		*z = (struct zombie){ .pid = p->child_pid, .parent = p->pid, .wstatus = wstatus };
		list_push_back(&zombies, &z->node);
	}
	parents = p->up;
	if (ut->clear_child_tid) {
		put_user_u32((uint32_t *)ut->clear_child_tid, 0);
	}
	uvm_restore(p->mem);
	fd_table_restore(p->fds);
	vfs_set_cwd(p->cwd);
	inode_put(p->cwd);
	proc.umask = p->umask;
	memcpy(proc.actions, p->actions, sizeof(p->actions));
	proc.pid = ut->tid = p->pid;
	proc_set_exe(p->exe);
	ut->sigmask = p->sigmask;
	ut->fs_base = p->fs_base;
	ut->gs_base = p->gs_base;
	ut->altstack_sp = p->altstack_sp;
	ut->altstack_size = p->altstack_size;
	ut->altstack_flags = p->altstack_flags;
	ut->clear_child_tid = p->clear_child_tid;
	ut->robust_list = p->robust_list;
	ut->sigpending &= ~SIGBIT(SIGCHLD);
	fpu_load(ut, &p->fpu);

	struct trap_frame tf = p->tf;
	tf.rax = z ? p->child_pid : -ENOMEM;
	int pid = p->child_pid;
	kfree(p);
	struct ksiginfo si = { .signo = SIGCHLD, .code = (wstatus & 0x7f) ? 2 : 1, .kill = { pid, 0 } };
	signal_send(ut, SIGCHLD, &si);
	ut->frame = &tf;
	signal_deliver(&tf);
	ut->frame = NULL;
	enter_user(&tf);
}

/* The first zombie matching pid (-1 or 0: any child of the caller). */
static struct zombie *find_zombie(int pid)
{
	struct zombie *z;
	list_for_each_entry(z, &zombies, node)
		if (z->parent == proc.pid && (pid <= 0 || z->pid == pid))
			return z;
	return NULL;
}

SYSCALL(61, wait4, 4)
{
	int pid = a0;
	struct zombie *z = find_zombie(pid);
	if (!z)
		return -ECHILD; /* children have always finished by the time fork returned */
	if (a1 && put_user_u32((uint32_t *)a1, z->wstatus))
		return -EFAULT;
	if (a3 && clear_user((void *)a3, 144))
		return -EFAULT;
	int r = z->pid;
	list_remove(&z->node);
	kfree(z);
	return r;
}

#define P_ALL 0
#define P_PID 1
#define WNOWAIT 0x01000000

SYSCALL(247, waitid, 5)
{
	int idtype = a0, id = a1;
	if (idtype != P_ALL && idtype != P_PID)
		return -EINVAL;
	struct zombie *z = find_zombie(idtype == P_ALL ? -1 : id);
	if (!z)
		return -ECHILD;
	if (a2) {
		struct ksiginfo si;
		memset(&si, 0, sizeof(si));
		si.signo = SIGCHLD;
		si.code = (z->wstatus & 0x7f) ? 2 : 1; /* CLD_KILLED : CLD_EXITED */
		si.kill.pid = z->pid;
		int32_t status = (z->wstatus & 0x7f) ? (z->wstatus & 0x7f) : (z->wstatus >> 8) & 0xff;
		memcpy(si.bytes + 8, &status, 4); /* si_status follows si_pid, si_uid */
		if (copy_to_user((void *)a2, &si, sizeof(si)))
			return -EFAULT;
	}
	if (!(a3 & WNOWAIT)) {
		list_remove(&z->node);
		kfree(z);
	}
	return 0;
}

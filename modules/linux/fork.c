/*
 * New processes (fork, vfork, clone without CLONE_THREAD) and waiting for
 * them (wait4, waitid).
 *
 * The child gets a copy-on-write copy of the address space (CLONE_VM: the
 * same one, as vfork and posix_spawn ask), a copy of the descriptor table
 * sharing the open files and their offsets (CLONE_FILES: the same table),
 * the working directory, umask, signal actions and mask, and a thread of its
 * own that the scheduler runs beside the parent's on any CPU. CLONE_VFORK
 * blocks the calling thread until the child execs or ends.
 */
#include "internal.h"
#include "calls.h"
#include <arch/cpu.h>
#include <console/printk.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>

#define CLONE_VM 0x00000100
#define CLONE_FILES 0x00000400
#define CLONE_VFORK 0x00004000
#define CLONE_PARENT 0x00008000
#define CLONE_SETTLS 0x00080000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID 0x01000000

/* On the stack of a thread in vfork: the child says when it may go on. */
struct vfork_wait {
	volatile bool done;
};

struct fork_start {
	struct uthread *ut;
	struct trap_frame tf;
	struct fpu_state fpu;
	uint64_t set_child_tid;  /* CLONE_CHILD_SETTID: written in the child's address space */
};

void vfork_release(struct process *p)
{
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct vfork_wait *w = p->vfork_wait;
	p->vfork_wait = NULL;
	if (w)
		w->done = true;
	spin_unlock_irqrestore(&procs_lock, f);
	if (w)
		process_notify();
}

static void fork_entry(void *arg)
{
	struct fork_start *fs = arg;
	struct trap_frame tf = fs->tf;

	uthread_attach(fs->ut);
	fpu_load(fs->ut, &fs->fpu);
	if (fs->set_child_tid)
		put_user_u32((uint32_t *)fs->set_child_tid, fs->ut->tid);
	kfree(fs);
	enter_user(&tf);
}

long fork_process(uint64_t flags, uint64_t newsp, uint64_t parent_tid, uint64_t child_tid, uint64_t tls)
{
#ifndef CONFIG_LINUX_FORK
	return -ENOSYS; /* configured out (LINUX_FORK): one process */
#endif
	struct uthread *pt = current_uthread();
	struct process *parent = pt->process;
	int err = -ENOMEM;

	if ((flags & 0xff) != SIGCHLD && (flags & 0xff) != 0)
		return -EINVAL; /* only SIGCHLD (or no signal) tells the parent */
	if ((flags & CLONE_SETTLS) && tls >= USER_TOP)
		return -EPERM;
	struct process *c = process_alloc(parent);
	struct uthread *ut = uthread_new();
	struct fork_start *fs = kmalloc(sizeof(*fs));
	if (!c || !ut || !fs)
		goto fail;
	if (flags & CLONE_VM) {
		c->mm = parent->mm;
		uvm_mm_get(c->mm);
	} else if (!(c->mm = uvm_mm_fork(&err))) {
		goto fail;
	}
	if (flags & CLONE_FILES) {
		c->fdt = parent->fdt;
		fdtable_get(c->fdt);
	} else if (!(c->fdt = fdtable_dup(parent->fdt))) {
		err = -ENOMEM;
		goto fail;
	}
	ut->tid = c->pid;
	ut->process = c;
	ut->sigmask = pt->sigmask;
	prctl_inherit(ut, pt);
	ut->fs_base = (flags & CLONE_SETTLS) ? tls : pt->fs_base;
	ut->gs_base = pt->gs_base;
	ut->altstack_sp = pt->altstack_sp;
	ut->altstack_size = pt->altstack_size;
	ut->altstack_flags = pt->altstack_flags;
	if (flags & CLONE_CHILD_CLEARTID)
		ut->clear_child_tid = child_tid;
	list_push_back(&c->threads, &ut->node);
	c->nthreads = 1;
	fs->ut = ut;
	fs->tf = *pt->frame;
	fs->tf.rax = 0;
	if (newsp)
		fs->tf.rsp = newsp;
	fs->set_child_tid = (flags & CLONE_CHILD_SETTID) ? child_tid : 0;
	fpu_save(pt, &fs->fpu);
	if ((flags & CLONE_PARENT_SETTID) && put_user_u32((uint32_t *)parent_tid, c->pid)) {
		err = -EFAULT;
		goto fail;
	}

	struct vfork_wait vw = { false };
	uint64_t f = spin_lock_irqsave(&procs_lock);
	c->parent = (flags & CLONE_PARENT) && parent->parent ? parent->parent : parent;
	list_push_back(&c->parent->children, &c->sibling);
	list_push_back(&procs, &c->all);
	if (flags & CLONE_VFORK)
		c->vfork_wait = &vw;
	spin_unlock_irqrestore(&procs_lock, f);

	char name[24];
	snprintf(name, sizeof(name), "pid %d", c->pid);
	struct thread *t = thread_create_flags(name, fork_entry, fs, THREAD_FPU);
	if (!t) {
		f = spin_lock_irqsave(&procs_lock);
		list_remove(&c->sibling);
		list_remove(&c->all);
		spin_unlock_irqrestore(&procs_lock, f);
		err = -EAGAIN;
		goto fail;
	}
	thread_detach(t);
	int pid = c->pid;
	if (flags & CLONE_VFORK) {
		/* Until the child execs or ends; a kill of this process still ends
		 * the wait (the child then forgets the waiter). */
		struct waiter w = { .queued = false };
		for (;;) {
			wait_prepare(&poll_wq, &w);
			if (vw.done || pt->zap)
				break;
			wait_block(0);
		}
		wait_finish(&poll_wq, &w);
		if (!vw.done) {
			f = spin_lock_irqsave(&procs_lock);
			struct process *q;
			list_for_each_entry(q, &procs, all)
				if (q->vfork_wait == &vw)
					q->vfork_wait = NULL;
			spin_unlock_irqrestore(&procs_lock, f);
		}
	}
	return pid;

fail:
	if (c) {
		if (c->mm)
			uvm_mm_put(c->mm);
		if (c->fdt)
			fdtable_put(c->fdt);
		if (c->cwd)
			inode_put(c->cwd);
		process_free(c);
	}
	if (ut)
		uthread_free(ut);
	kfree(fs);
	return err;
}

/* --- wait --- */

#define WNOHANG 0x00000001
#define WUNTRACED 0x00000002
#define WSTOPPED WUNTRACED
#define WEXITED 0x00000004
#define WCONTINUED 0x00000008
#define WNOWAIT 0x01000000
#define __WNOTHREAD 0x20000000
#define __WALL 0x40000000
#define __WCLONE 0x80000000

#define P_ALL 0
#define P_PID 1
#define P_PGID 2

struct wait_result {
	int pid, wstatus, code, status;
};

static bool matches(const struct process *c, int idtype, int id)
{
	switch (idtype) {
	case P_PID:
		return c->pid == id;
	case P_PGID:
		return c->pgid == id;
	default:
		return true;
	}
}

/* One pass over the caller's children: 1 with *res when one has news, 0
 * when some match but none has, -ECHILD when none match. */
static int wait_scan(int idtype, int id, unsigned options, struct wait_result *res, struct process **reaped)
{
	struct process *self = &proc, *c;
	int any = 0;
	*reaped = NULL;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	list_for_each_entry(c, &self->children, sibling) {
		if (!matches(c, idtype, id))
			continue;
		any = 1;
		if (c->state == PROC_ZOMBIE && (options & WEXITED)) {
			int ws = c->wstatus;
			*res = (struct wait_result){ c->pid, ws, (ws & 0x7f) ? ((ws & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED,
						     (ws & 0x7f) ? (ws & 0x7f) : (ws >> 8) & 0xff };
			if (!(options & WNOWAIT)) {
				list_remove(&c->sibling);
				list_remove(&c->all);
				*reaped = c;
			}
			spin_unlock_irqrestore(&procs_lock, f);
			return 1;
		}
		if (c->state == PROC_ALIVE && c->report && (c->report & 0xff) == 0x7f && (options & WSTOPPED)) {
			*res = (struct wait_result){ c->pid, c->report, CLD_STOPPED, c->report >> 8 };
			if (!(options & WNOWAIT))
				c->report = 0;
			spin_unlock_irqrestore(&procs_lock, f);
			return 1;
		}
		if (c->state == PROC_ALIVE && c->report == 0xffff && (options & WCONTINUED)) {
			*res = (struct wait_result){ c->pid, 0xffff, CLD_CONTINUED, SIGCONT };
			if (!(options & WNOWAIT))
				c->report = 0;
			spin_unlock_irqrestore(&procs_lock, f);
			return 1;
		}
	}
	spin_unlock_irqrestore(&procs_lock, f);
	return any ? 0 : -ECHILD;
}

static long do_wait(int idtype, int id, unsigned options, struct wait_result *res)
{
	for (;;) {
		unsigned seen = process_events();
		struct process *reaped;
		int r = wait_scan(idtype, id, options, res, &reaped);
		if (reaped)
			process_free(reaped);
		if (r)
			return r < 0 ? r : 1;
		if (options & WNOHANG)
			return 0;
		r = WAIT_INTR(process_events() != seen, 0);
		if (r)
			return r;
	}
}

SYSCALL(61, wait4, 4)
{
	int pid = a0;
	unsigned options = a2;
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	int idtype = P_ALL, id = 0;
	if (pid > 0) {
		idtype = P_PID, id = pid;
	} else if (pid == 0) {
		idtype = P_PGID, id = proc.pgid;
	} else if (pid < -1) {
		idtype = P_PGID, id = -pid;
	}
	struct wait_result res;
	long r = do_wait(idtype, id, options | WEXITED, &res);
	if (r <= 0)
		return r;
	if (a1 && put_user_u32((uint32_t *)a1, res.wstatus))
		return -EFAULT;
	if (a3 && clear_user((void *)a3, 144))
		return -EFAULT;
	return res.pid;
}

SYSCALL(247, waitid, 5)
{
	int idtype = a0, id = a1;
	unsigned options = a3;
	if (idtype != P_ALL && idtype != P_PID && idtype != P_PGID)
		return -EINVAL;
	if (options & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	if (idtype == P_PGID && id == 0)
		id = proc.pgid;
	struct wait_result res;
	long r = do_wait(idtype, id, options, &res);
	if (r < 0)
		return r;
	if (a2) {
		struct ksiginfo si;
		memset(&si, 0, sizeof(si));
		if (r > 0) {
			si.signo = SIGCHLD;
			si.code = res.code;
			si.kill.pid = res.pid;
			memcpy(si.bytes + 8, &res.status, 4); /* si_status follows si_pid, si_uid */
		}
		if (copy_to_user((void *)a2, &si, sizeof(si)))
			return -EFAULT;
	}
	if (a4 && clear_user((void *)a4, 144))
		return -EFAULT;
	return 0;
}

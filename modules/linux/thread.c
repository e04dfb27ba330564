/* Threads of a process: clone (thread flags; new processes are fork.c's),
 * exit, TLS, futexes, interruptible sleeps. */
#include "internal.h"
#include "calls.h"
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>
#include <lib/printf.h>
#include <lib/string.h>

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_PIDFD 0x00001000
#define CLONE_PTRACE 0x00002000
#define CLONE_VFORK 0x00004000
#define CLONE_PARENT 0x00008000
#define CLONE_THREAD 0x00010000
#define CLONE_NEWNS 0x00020000
#define CLONE_SYSVSEM 0x00040000
#define CLONE_SETTLS 0x00080000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_DETACHED 0x00400000
#define CLONE_UNTRACED 0x00800000
#define CLONE_CHILD_SETTID 0x01000000
#define CLONE_IO 0x80000000

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

int futex_wake(uint64_t uaddr, int n, uint32_t bitset);

/* --- TLS --- */

static bool canonical_user(uint64_t a)
{
	return a < USER_TOP;
}

SYSCALL(158, arch_prctl, 2)
{
	struct uthread *ut = current_uthread();
	switch (a0) {
	case ARCH_SET_FS:
		if (!canonical_user(a1))
			return -EPERM;
		ut->fs_base = a1;
		wrmsr(MSR_FS_BASE, a1);
		return 0;
	case ARCH_SET_GS:
		if (!canonical_user(a1))
			return -EPERM;
		ut->gs_base = a1;
		wrmsr(MSR_KERNEL_GS_BASE, a1);
		return 0;
	case ARCH_GET_FS:
		return put_user_u64((uint64_t *)a1, ut->fs_base);
	case ARCH_GET_GS:
		return put_user_u64((uint64_t *)a1, ut->gs_base);
	default:
		return -EINVAL;
	}
}

SYSCALL(218, set_tid_address, 1)
{
	struct uthread *ut = current_uthread();
	ut->clear_child_tid = a0;
	return ut->tid;
}

SYSCALL(273, set_robust_list, 2)
{
	if (a1 != 24)
		return -EINVAL;
	current_uthread()->robust_list = a0;
	return 0;
}

SYSCALL(274, get_robust_list, 3)
{
	if (a0 && a0 != (uint64_t)current_uthread()->tid)
		return -ESRCH;
	if (put_user_u64((uint64_t *)a1, current_uthread()->robust_list))
		return -EFAULT;
	return put_user_u64((uint64_t *)a2, 24);
}

/* Restartable sequences are an optimisation glibc probes for; without them it
 * falls back. Refused quietly (not reported as unimplemented). */
SYSCALL(334, rseq, 4)
{
	return -ENOSYS;
}

/* --- clone --- */

struct clone_start {
	struct uthread *ut;
	struct trap_frame tf;
	struct fpu_state fpu;
};

static void clone_entry(void *arg)
{
	struct clone_start *cs = arg;
	struct trap_frame tf = cs->tf;
	struct thread *t = thread_current();

	(void)t;
	uthread_attach(cs->ut);
	/* The child starts with a copy of the parent's FPU state, as on Linux. */
	fpu_load(cs->ut, &cs->fpu);
	kfree(cs);
	enter_user(&tf);
}

static long do_clone(uint64_t flags, uint64_t newsp, uint64_t parent_tid, uint64_t child_tid, uint64_t tls)
{
	const uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	struct uthread *parent = current_uthread();

	if (!(flags & CLONE_THREAD)) {
		/* A new process (fork.c). */
		if (flags & (CLONE_NEWNS | CLONE_PTRACE | CLONE_PIDFD | 0x7e000000ull) & ~CLONE_CHILD_SETTID)
			return -EINVAL;
		return fork_process(flags, newsp, parent_tid, child_tid, tls);
	}
	if ((flags & thread_flags) != thread_flags)
		return -EINVAL; /* a thread shares everything with its process */
	if (flags & (CLONE_NEWNS | CLONE_PTRACE | CLONE_VFORK | CLONE_PIDFD | 0x7e000000ull) & ~CLONE_CHILD_SETTID)
		return -EINVAL;
	if ((flags & CLONE_SETTLS) && !canonical_user(tls))
		return -EPERM;

	struct uthread *ut = uthread_new();
	struct clone_start *cs = kmalloc(sizeof(*cs));
	if (!ut || !cs) {
		kfree(cs);
		if (ut)
			uthread_free(ut);
		return -ENOMEM;
	}
	ut->tid = alloc_tid();
	ut->process = parent->process;
	fpu_save(parent, &cs->fpu);
	ut->fs_base = (flags & CLONE_SETTLS) ? tls : parent->fs_base;
	ut->gs_base = parent->gs_base;
	ut->sigmask = parent->sigmask;
	prctl_inherit(ut, parent);
	if (flags & CLONE_CHILD_CLEARTID)
		ut->clear_child_tid = child_tid;
	cs->ut = ut;
	cs->tf = *parent->frame;
	cs->tf.rax = 0;
	if (newsp)
		cs->tf.rsp = newsp;

	if ((flags & CLONE_PARENT_SETTID) && put_user_u32((uint32_t *)parent_tid, ut->tid))
		goto fault;
	if ((flags & CLONE_CHILD_SETTID) && put_user_u32((uint32_t *)child_tid, ut->tid))
		goto fault;

	struct process *p = ut->process;
	uint64_t f = spin_lock_irqsave(&p->lock);
	if (p->exiting) {
		spin_unlock_irqrestore(&p->lock, f);
		kfree(cs);
		uthread_free(ut);
		return -EAGAIN;
	}
	list_push_back(&p->threads, &ut->node);
	p->nthreads++;
	spin_unlock_irqrestore(&p->lock, f);

	char name[24];
	snprintf(name, sizeof(name), "tid %d", ut->tid);
	struct thread *t = thread_create_flags(name, clone_entry, cs, THREAD_FPU);
	if (!t) {
		f = spin_lock_irqsave(&p->lock);
		list_remove(&ut->node);
		p->nthreads--;
		spin_unlock_irqrestore(&p->lock, f);
		kfree(cs);
		uthread_free(ut);
		return -EAGAIN;
	}
	thread_detach(t);
	return ut->tid;
fault:
	kfree(cs);
	uthread_free(ut);
	return -EFAULT;
}

SYSCALL(56, clone, 5)
{
	/* x86-64 argument order: flags, newsp, parent_tid, child_tid, tls. */
	return do_clone(a0, a1, a2, a3, a4);
}

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

SYSCALL(435, clone3, 2)
{
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	if (a1 < 64 || a1 > 4096)
		return -EINVAL;
	if (copy_from_user(&ca, (const void *)a0, MIN(a1, sizeof(ca))))
		return -EFAULT;
	uint64_t sp = ca.stack ? ca.stack + ca.stack_size : 0;
	return do_clone(ca.flags, sp, ca.parent_tid, ca.child_tid, ca.tls);
}

SYSCALL(57, fork, 0)
{
	return fork_process(SIGCHLD, 0, 0, 0, 0);
}

SYSCALL(58, vfork, 0)
{
	return fork_process(CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

/* --- exit --- */

SYSCALL(60, exit, 1)
{
	thread_exit_user(a0);
}

SYSCALL(231, exit_group, 1)
{
	process_exit(a0);
}

/* --- sleeping --- */

int sleep_until_ns(uint64_t deadline)
{
	struct uthread *ut = current_uthread();
	int r = 0;

	while (clock_monotonic_ns() < deadline) {
		uint64_t f = irq_save();
		ut->sleeping = true;
		thread_current()->state = THREAD_BLOCKED;
		if (signal_pending()) {
			thread_current()->state = THREAD_RUNNABLE;
			ut->sleeping = false;
			irq_restore(f);
			r = -EINTR;
			break;
		}
		wait_block(deadline);
		ut->sleeping = false;
		irq_restore(f);
	}
	return r;
}

/* --- futexes --- */

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_FD 2
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

#define FUTEX_BUCKETS 64

/* A futex is its address in one address space, or (MAP_SHARED memory) the
 * physical address, which every process mapping it agrees on. */
struct futex_key {
	const void *mm;  /* NULL: addr is physical */
	uint64_t addr;
};

static bool key_eq(const struct futex_key *a, const struct futex_key *b)
{
	return a->mm == b->mm && a->addr == b->addr;
}

static int futex_key(uint64_t uaddr, bool private, struct futex_key *k)
{
	paddr_t pa;
	k->mm = uvm_mm_current();
	k->addr = uaddr;
	if (private)
		return 0;
	uint32_t v;
	if (get_user_u32(&v, (const uint32_t *)uaddr)) /* faults the page in */
		return -EFAULT;
	if (uvm_shared_phys(uaddr, &pa)) {
		k->mm = NULL;
		k->addr = pa;
	}
	return 0;
}

struct futex_waiter {
	struct list node;
	struct futex_key key;
	uint32_t bitset;
	volatile bool woken;
	struct thread *thread;
};

static struct {
	spinlock_t lock;
	struct list waiters;
} buckets[FUTEX_BUCKETS];

static unsigned bucket_of(const struct futex_key *k)
{
	return ((k->addr >> 2) ^ ((uintptr_t)k->mm >> 4)) * 0x9e3779b1u % FUTEX_BUCKETS;
}

static void futex_init(void)
{
	static bool done;
	if (done)
		return;
	for (int i = 0; i < FUTEX_BUCKETS; i++) {
		spin_init(&buckets[i].lock);
		list_init(&buckets[i].waiters);
	}
	done = true;
}

static int futex_wake_key(const struct futex_key *k, int n, uint32_t bitset)
{
	futex_init();
	unsigned b = bucket_of(k);
	int woken = 0;
	struct list *pos, *tmp;
	uint64_t f = spin_lock_irqsave(&buckets[b].lock);
	list_for_each_safe(pos, tmp, &buckets[b].waiters) {
		if (woken >= n)
			break;
		struct futex_waiter *w = list_entry(pos, struct futex_waiter, node);
		if (!key_eq(&w->key, k) || !(w->bitset & bitset))
			continue;
		list_remove(&w->node);
		w->woken = true;
		thread_wake(w->thread);
		woken++;
	}
	spin_unlock_irqrestore(&buckets[b].lock, f);
	return woken;
}

int futex_wake(uint64_t uaddr, int n, uint32_t bitset)
{
	struct futex_key k;
	if (futex_key(uaddr, false, &k))
		return -EFAULT;
	return futex_wake_key(&k, n, bitset);
}

static long futex_wait(uint64_t uaddr, bool private, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	struct uthread *ut = current_uthread();
	struct futex_waiter w = { .bitset = bitset, .thread = thread_current() };
	uint32_t cur;
	long r = 0;

	futex_init();
	if (!bitset)
		return -EINVAL;
	if (uaddr & 3)
		return -EINVAL;
	if (futex_key(uaddr, private, &w.key))
		return -EFAULT;
	unsigned b = bucket_of(&w.key);
	uint64_t f = irq_save();
	spin_lock(&buckets[b].lock);
	if (get_user_u32(&cur, (uint32_t *)uaddr)) {
		r = -EFAULT;
	} else if (cur != val) {
		r = -EAGAIN;
	}
	if (r) {
		spin_unlock(&buckets[b].lock);
		irq_restore(f);
		return r;
	}
	list_push_back(&buckets[b].waiters, &w.node);
	ut->sleeping = true;
	for (;;) {
		/* Blocked is set under the bucket lock, so a wake in between is not lost. */
		thread_current()->state = THREAD_BLOCKED;
		if (w.woken)
			break;
		if (signal_pending()) {
			r = -EINTR;
			break;
		}
		spin_unlock(&buckets[b].lock);
		bool in_time = wait_block(deadline);
		spin_lock(&buckets[b].lock);
		if (w.woken)
			break;
		if (deadline && !in_time) {
			r = -ETIMEDOUT;
			break;
		}
	}
	thread_current()->state = THREAD_RUNNABLE;
	if (!w.woken)
		list_remove(&w.node);
	spin_unlock(&buckets[b].lock);
	irq_restore(f);
	ut->sleeping = false;
	return w.woken ? 0 : r;
}

static long futex_requeue(uint64_t uaddr, bool private, int nwake, int nmove, uint64_t uaddr2, bool cmp,
			  uint32_t val)
{
	struct futex_key k1, k2;
	futex_init();
	if (futex_key(uaddr, private, &k1) || futex_key(uaddr2, private, &k2))
		return -EFAULT;
	unsigned b1 = bucket_of(&k1), b2 = bucket_of(&k2);
	uint64_t f = irq_save();
	/* Lock both buckets in index order. */
	spin_lock(&buckets[MIN(b1, b2)].lock);
	if (b1 != b2)
		spin_lock(&buckets[MAX(b1, b2)].lock);
	long r = 0;
	if (cmp) {
		uint32_t cur;
		if (get_user_u32(&cur, (uint32_t *)uaddr))
			r = -EFAULT;
		else if (cur != val)
			r = -EAGAIN;
	}
	if (!r) {
		struct list *pos, *tmp;
		int woken = 0, moved = 0;
		list_for_each_safe(pos, tmp, &buckets[b1].waiters) {
			struct futex_waiter *w = list_entry(pos, struct futex_waiter, node);
			if (!key_eq(&w->key, &k1))
				continue;
			if (woken < nwake) {
				list_remove(&w->node);
				w->woken = true;
				thread_wake(w->thread);
				woken++;
			} else if (moved < nmove) {
				list_remove(&w->node);
				w->key = k2;
				list_push_back(&buckets[b2].waiters, &w->node);
				moved++;
			} else {
				break;
			}
		}
		r = woken + moved;
	}
	if (b1 != b2)
		spin_unlock(&buckets[MAX(b1, b2)].lock);
	spin_unlock(&buckets[MIN(b1, b2)].lock);
	irq_restore(f);
	return r;
}

static long futex_wake_op(uint64_t uaddr, bool private, int n, uint64_t uaddr2, int n2, uint32_t op)
{
	struct futex_key k1, k2;
	unsigned opc = (op >> 28) & 7, cmp = (op >> 24) & 15;
	uint32_t oparg = (op >> 12) & 0xfff, cmparg = op & 0xfff;
	uint32_t old, nv;
	if (op & (8u << 28))
		oparg = 1u << (oparg & 31);
	for (int tries = 0;; tries++) {
		if (get_user_u32(&old, (uint32_t *)uaddr2))
			return -EFAULT;
		switch (opc) {
		case 0: nv = oparg; break;
		case 1: nv = old + oparg; break;
		case 2: nv = old | oparg; break;
		case 3: nv = old & ~oparg; break;
		case 4: nv = old ^ oparg; break;
		default: return -ENOSYS;
		}
		uint32_t seen = old;
		if (cmpxchg_user_u32((uint32_t *)uaddr2, &seen, nv))
			return -EFAULT;
		if (seen == old)
			break;
		if (tries > 1000)
			return -EAGAIN;
	}
	bool hit;
	switch (cmp) {
	case 0: hit = old == cmparg; break;
	case 1: hit = old != cmparg; break;
	case 2: hit = (int32_t)old < (int32_t)cmparg; break;
	case 3: hit = (int32_t)old <= (int32_t)cmparg; break;
	case 4: hit = (int32_t)old > (int32_t)cmparg; break;
	case 5: hit = (int32_t)old >= (int32_t)cmparg; break;
	default: return -ENOSYS;
	}
	if (futex_key(uaddr, private, &k1) || futex_key(uaddr2, private, &k2))
		return -EFAULT;
	long r = futex_wake_key(&k1, n, ~0u);
	if (hit)
		r += futex_wake_key(&k2, n2, ~0u);
	return r;
}

struct timespec64 {
	int64_t sec, nsec;
};

SYSCALL(202, futex, 6)
{
	uint64_t uaddr = a0, utime = a3, uaddr2 = a4;
	int op = a1;
	uint32_t val = a2, val3 = a5;
	int cmd = op & FUTEX_CMD_MASK;
	bool private = op & FUTEX_PRIVATE_FLAG;
	uint64_t deadline = 0;
	struct futex_key k;

	if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && utime) {
		struct timespec64 ts;
		if (copy_from_user(&ts, (const void *)utime, sizeof(ts)))
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
			return -EINVAL;
		uint64_t t = (uint64_t)ts.sec * NSEC_PER_SEC + ts.nsec, now = clock_monotonic_ns();
		if (cmd == FUTEX_WAIT) {
			deadline = now + t; /* relative */
		} else {
			/* Absolute, on CLOCK_MONOTONIC or (with the flag) CLOCK_REALTIME. */
			uint64_t base = (op & FUTEX_CLOCK_REALTIME) ? clock_realtime_ns() : now;
			deadline = t > base ? now + (t - base) : now;
		}
		if (!deadline)
			deadline = 1;
	}
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(uaddr, private, val, deadline, ~0u);
	case FUTEX_WAIT_BITSET:
		return futex_wait(uaddr, private, val, deadline, val3);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (cmd == FUTEX_WAKE_BITSET && !val3)
			return -EINVAL;
		if (futex_key(uaddr, private, &k))
			return -EFAULT;
		return futex_wake_key(&k, (int)val < 0 ? INT32_MAX : (int)val, cmd == FUTEX_WAKE ? ~0u : val3);
	case FUTEX_REQUEUE:
		return futex_requeue(uaddr, private, val, (int)utime, uaddr2, false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, private, val, (int)utime, uaddr2, true, val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, private, val, uaddr2, (int)utime, val3);
	default:
		return -ENOSYS;
	}
}

/* Signals: actions, masks, sending, delivery on the way back to ring 3 with a
 * Linux-compatible rt_sigframe (siginfo + ucontext + FXSAVE area), and the
 * faults of user code turned into SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP. */
#include "internal.h"
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <console/printk.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>

#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SI_KERNEL 0x80
#define TRAP_BRKPT 1
#define FPE_FLTINV 7

struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved[8];
};

struct ucontext {
	uint64_t flags, link;
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
	struct sigcontext mc;
	uint64_t sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	struct ksiginfo info;
};

STATIC_ASSERT(sizeof(struct sigcontext) == 256, "sigcontext layout");
STATIC_ASSERT(sizeof(struct ksiginfo) == 128, "siginfo layout");
STATIC_ASSERT(__builtin_offsetof(struct rt_sigframe, info) == 8 + 304, "rt_sigframe layout");

static const char *const signames[NSIG + 1] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGCHLD] = "SIGCHLD",
	[SIGURG] = "SIGURG", [SIGSYS] = "SIGSYS",
};

static const char *signame(int sig)
{
	return sig > 0 && sig <= NSIG && signames[sig] ? signames[sig] : "signal";
}

static bool default_ignored(int sig)
{
	return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

#define STOP_SIGNALS (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))

static void __noreturn die(int sig, const struct ksiginfo *info, const struct trap_frame *tf)
{
	if (sig == SIGSEGV || sig == SIGBUS)
		printk(LOG_ERR, "osvb: %s killed by %s (fault address %#lx, rip %#lx)\n", proc.comm, signame(sig),
		       (unsigned long)info->addr, (unsigned long)(tf ? tf->rip : 0));
	else if (sig == SIGILL || sig == SIGFPE || sig == SIGTRAP)
		printk(LOG_ERR, "osvb: %s killed by %s (rip %#lx)\n", proc.comm, signame(sig),
		       (unsigned long)(tf ? tf->rip : 0));
	else /* the first process's end is news; a shell's children killed by SIGPIPE are not */
		printk(&proc == init_process ? LOG_ERR : LOG_INFO, "osvb: %s killed by %s\n", proc.comm, signame(sig));
	process_kill(sig);
}

bool signal_pending(void)
{
	struct uthread *ut = current_uthread();
	/* Callers set ut->sleeping (and their blocked state) first; a sender on
	 * another CPU sets sigpending, then reads sleeping. Each side's store
	 * must be visible before its load, or both miss the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ut && (ut->zap || (ut->sigpending & ~ut->sigmask));
}

/* Job control: SIGCONT resumes a stopped process (and cancels pending stop
 * signals); a stop signal cancels a pending SIGCONT. */
/* Under procs_lock. */
static void continue_process(struct process *p)
{
	uint64_t f = spin_lock_irqsave(&p->lock);
	struct uthread *t;
	list_for_each_entry(t, &p->threads, node)
		t->sigpending &= ~STOP_SIGNALS;
	spin_unlock_irqrestore(&p->lock, f);
	if (p->stopped) {
		p->stopped = false;
		p->report = 0xffff;
		signal_child_event(p, CLD_CONTINUED, SIGCONT);
		process_notify();
	}
}

/* Under procs_lock. */
void signal_child_event(struct process *p, int code, int status)
{
	struct process *parent = p->parent;
	if (!parent || parent->state != PROC_ALIVE)
		return;
	if ((code == CLD_STOPPED || code == CLD_CONTINUED) && (parent->actions[SIGCHLD - 1].flags & 1 /* SA_NOCLDSTOP */))
		return;
	struct ksiginfo si = { .signo = SIGCHLD, .code = code, .kill = { p->pid, 0 } };
	memcpy(si.bytes + 8, &status, 4); /* si_status follows si_pid, si_uid */
	signal_send_process(parent, SIGCHLD, &si);
}

int signal_send(struct uthread *t, int sig, const struct ksiginfo *info)
{
	struct process *p = t->process;
	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	if (sig == SIGKILL) {
		process_zap(p, SIGKILL);
		return 0;
	}
	uint64_t f = spin_lock_irqsave(&p->lock);
	struct ksigaction *a = &p->actions[sig - 1];
	/* A blocked (or sigwait-ed) signal is kept even if ignored: its action
	 * may change before it is unblocked, and sigwait/signalfd take it. */
	bool held = (t->sigmask | t->waitset) & SIGBIT(sig);
	if (!held && (a->handler == SIG_IGN || (a->handler == SIG_DFL && default_ignored(sig)))) {
		spin_unlock_irqrestore(&p->lock, f);
		return 0;
	}
	if (SIGBIT(sig) & STOP_SIGNALS)
		t->sigpending &= ~SIGBIT(SIGCONT);
	if (!(t->sigpending & SIGBIT(sig)))
		t->siginfo[sig - 1] = *info;
	t->sigpending |= SIGBIT(sig);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* see signal_pending() */
	bool other = t->kt && t != current_uthread() && (SIGBIT(sig) & ~t->sigmask);
	bool wake = other && t->sleeping;
	spin_unlock_irqrestore(&p->lock, f);
	if (wake)
		thread_wake(t->kt);
	else if (other)
		thread_kick(t->kt); /* running on another CPU: make it enter the kernel */
	poll_notify(); /* signalfd readers and sigtimedwait in other threads */
	return 0;
}

int signal_send_process(struct process *p, int sig, const struct ksiginfo *info)
{
	if (sig == SIGCONT)
		continue_process(p);
	/* To a thread that does not block it (else the first). */
	uint64_t f = spin_lock_irqsave(&p->lock);
	struct uthread *t, *target = NULL;
	list_for_each_entry(t, &p->threads, node) {
		if (!target)
			target = t;
		if (!(t->sigmask & SIGBIT(sig))) {
			target = t;
			break;
		}
	}
	spin_unlock_irqrestore(&p->lock, f);
	if (!target)
		return 0; /* a zombie, or ending: nothing to deliver to */
	return signal_send(target, sig, info);
}

/* Under procs_lock: the thread tid of process tgid (0: any process). */
static struct uthread *find_thread(int tgid, int tid)
{
	struct process *p;
	list_for_each_entry(p, &procs, all) {
		if ((tgid && p->pid != tgid) || p->state != PROC_ALIVE)
			continue;
		struct uthread *ut;
		list_for_each_entry(ut, &p->threads, node)
			if (ut->tid == tid)
				return ut;
	}
	return NULL;
}

static uint32_t mxcsr_mask(void)
{
	static uint32_t mask;
	if (!mask) {
		struct fpu_state s;
		uint64_t f = irq_save();
		arch_fpu_save(&s);
		irq_restore(f);
		memcpy(&mask, s.fx + 28, 4);
		if (!mask)
			mask = 0xffbf; /* the architectural default when the CPU reports 0 */
	}
	return mask;
}

static bool on_altstack(struct uthread *ut, uint64_t sp)
{
	return ut->altstack_size && sp > ut->altstack_sp && sp <= ut->altstack_sp + ut->altstack_size;
}

/* Build the frame for sig on the user stack and point tf at the handler. */
static bool setup_frame(struct uthread *ut, struct trap_frame *tf, int sig, struct ksigaction *a, uint64_t oldmask)
{
	uint64_t sp = tf->rsp;

	if ((a->flags & SA_ONSTACK) && ut->altstack_size && !(ut->altstack_flags & SS_DISABLE) &&
	    !on_altstack(ut, sp))
		sp = ut->altstack_sp + ut->altstack_size;
	sp -= 128; /* the red zone of the interrupted function */
	sp = (sp - fpu_frame_size()) & ~63ul;
	uint64_t fp = sp;
	sp -= sizeof(struct rt_sigframe);
	sp = ((sp + 8) & ~15ul) - 8; /* at handler entry: (rsp + 8) % 16 == 0 */

	struct rt_sigframe fr;
	memset(&fr, 0, sizeof(fr));
	fr.pretcode = a->restorer;
	fr.uc.ss_sp = ut->altstack_sp;
	fr.uc.ss_size = ut->altstack_size;
	fr.uc.ss_flags = ut->altstack_size ? (on_altstack(ut, tf->rsp) ? SS_ONSTACK : 0) : SS_DISABLE;
	struct sigcontext *mc = &fr.uc.mc;
	mc->r8 = tf->r8, mc->r9 = tf->r9, mc->r10 = tf->r10, mc->r11 = tf->r11;
	mc->r12 = tf->r12, mc->r13 = tf->r13, mc->r14 = tf->r14, mc->r15 = tf->r15;
	mc->rdi = tf->rdi, mc->rsi = tf->rsi, mc->rbp = tf->rbp, mc->rbx = tf->rbx;
	mc->rdx = tf->rdx, mc->rax = tf->rax, mc->rcx = tf->rcx, mc->rsp = tf->rsp;
	mc->rip = tf->rip, mc->eflags = tf->rflags;
	mc->cs = USER_CS, mc->ss = USER_DS;
	mc->err = tf->vector < 32 ? tf->error : 0;
	mc->trapno = tf->vector < 32 ? tf->vector : 0;
	mc->oldmask = oldmask;
	mc->cr2 = ut->siginfo[sig - 1].addr;
	mc->fpstate = fp;
	fr.uc.sigmask = oldmask;
	fr.info = ut->siginfo[sig - 1];
	fr.info.signo = sig;

	struct fpu_state fs;
	fpu_save(ut, &fs);
	fpu_frame_prepare(&fs);
	if (fpu_xstate())
		fr.uc.flags |= 1; /* UC_FP_XSTATE */
	if (copy_to_user((void *)fp, &fs, fpu_frame_size()) || copy_to_user((void *)sp, &fr, sizeof(fr)))
		return false;

	/* The handler starts with a clean FPU state, as on Linux. */
	fpu_init_state(&fs);
	fpu_load(ut, &fs);
	tf->rip = a->handler;
	tf->rsp = sp;
	tf->rdi = sig;
	tf->rsi = sp + __builtin_offsetof(struct rt_sigframe, info);
	tf->rdx = sp + __builtin_offsetof(struct rt_sigframe, uc);
	tf->rax = 0;
	tf->rflags &= ~((1ul << 8) | (1ul << 10)); /* TF, DF */
	return true;
}

static void stopped_wait(struct uthread *ut);

/* Default action of a stop signal: the process stops (its parent hears of
 * it) until SIGCONT or SIGKILL. Its threads that run user code stop on their
 * next way back to it; threads asleep in a system call stop when it ends. */
static void stop(struct uthread *ut, int sig)
{
	struct process *p = ut->process;
	irq_enable(); /* from an interrupt's way out too: this sleeps */
	uint64_t f = spin_lock_irqsave(&procs_lock);
	p->stopped = true;
	p->report = (sig << 8) | 0x7f;
	signal_child_event(p, CLD_STOPPED, sig);
	spin_unlock_irqrestore(&procs_lock, f);
	process_notify();
	f = spin_lock_irqsave(&p->lock);
	struct uthread *t;
	list_for_each_entry(t, &p->threads, node)
		if (t != ut && t->kt && !t->sleeping)
			thread_kick(t->kt);
	spin_unlock_irqrestore(&p->lock, f);
	stopped_wait(ut);
}

static void stopped_wait(struct uthread *ut)
{
	struct process *p = ut->process;
	struct waiter w = { .queued = false };
	for (;;) {
		wait_prepare(&poll_wq, &w);
		if (!READ_ONCE(p->stopped) || ut->zap)
			break;
		wait_block(0);
	}
	wait_finish(&poll_wq, &w);
}

/* An interrupted restartable call goes back to its syscall instruction (the
 * handler's frame then returns there), or stays EINTR. */
static void restart_call(struct uthread *ut, struct trap_frame *tf, bool restart)
{
	if (!ut->restart_nr)
		return;
	if (restart) {
		tf->rax = ut->restart_nr - 1;
		tf->rip -= 2; /* syscall is 0f 05 */
	}
	ut->restart_nr = 0;
}

void signal_deliver(struct trap_frame *tf)
{
	struct uthread *ut = current_uthread();
	if (!ut)
		return;
	for (;;) {
		if (ut->zap)
			thread_exit_user(0);
		if (READ_ONCE(ut->process->stopped)) {
			irq_enable(); /* from an interrupt's way out too: this sleeps */
			stopped_wait(ut);
			continue;
		}
		uint64_t f = spin_lock_irqsave(&proc.lock);
		uint64_t ready = ut->sigpending & ~ut->sigmask;
		if (!ready) {
			restart_call(ut, tf, true);
			if (ut->restore_sigmask) {
				ut->sigmask = ut->saved_sigmask;
				ut->restore_sigmask = false;
			}
			spin_unlock_irqrestore(&proc.lock, f);
			return;
		}
		int sig = __builtin_ctzll(ready) + 1;
		ut->sigpending &= ~SIGBIT(sig);
		struct ksigaction a = proc.actions[sig - 1];
		if (a.handler == SIG_DFL || a.handler == SIG_IGN) {
			spin_unlock_irqrestore(&proc.lock, f);
			if (a.handler == SIG_IGN || default_ignored(sig))
				continue;
			if (SIGBIT(sig) & STOP_SIGNALS) {
				stop(ut, sig);
				continue;
			}
			die(sig, &ut->siginfo[sig - 1], tf);
		}
		restart_call(ut, tf, a.flags & SA_RESTART);
		uint64_t oldmask = ut->restore_sigmask ? ut->saved_sigmask : ut->sigmask;
		ut->restore_sigmask = false;
		if (a.flags & SA_RESETHAND)
			proc.actions[sig - 1].handler = SIG_DFL;
		spin_unlock_irqrestore(&proc.lock, f);
		if (!(a.flags & SA_RESTORER) || !setup_frame(ut, tf, sig, &a, oldmask)) {
			struct ksiginfo si = { .signo = SIGSEGV, .code = SI_KERNEL };
			die(SIGSEGV, &si, tf);
		}
		ut->sigmask |= a.mask | ((a.flags & SA_NODEFER) ? 0 : SIGBIT(sig));
		ut->sigmask &= ~UNBLOCKABLE;
		return;
	}
}

/* A synchronous fault in user code: the handler runs now, or the program dies. */
void signal_fault(struct trap_frame *tf, int sig, int code, uint64_t addr)
{
	struct uthread *ut = current_uthread();
	struct ksiginfo si = { .signo = sig, .code = code, .addr = addr };
	if (!ut)
		die(sig, &si, tf);
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct ksigaction *a = &proc.actions[sig - 1];
	bool blocked = ut->sigmask & SIGBIT(sig);
	bool handled = a->handler != SIG_DFL && a->handler != SIG_IGN;
	/* A blocked or ignored fault signal cannot be held back: the program would
	 * fault again at once. Linux kills it; so do we. */
	if (blocked || !handled) {
		spin_unlock_irqrestore(&proc.lock, f);
		die(sig, &si, tf);
	}
	ut->siginfo[sig - 1] = si;
	ut->sigpending |= SIGBIT(sig);
	spin_unlock_irqrestore(&proc.lock, f);
	signal_deliver(tf);
}

void signal_reset_on_exec(void)
{
	struct uthread *ut = current_uthread();
	uint64_t f = spin_lock_irqsave(&proc.lock);
	for (int i = 0; i < NSIG; i++) {
		if (proc.actions[i].handler != SIG_IGN)
			proc.actions[i] = (struct ksigaction){ 0 };
		proc.actions[i].flags = 0;
	}
	ut->altstack_sp = ut->altstack_size = 0;
	spin_unlock_irqrestore(&proc.lock, f);
}

/* --- system calls --- */

SYSCALL(13, rt_sigaction, 4)
{
	int sig = a0;
	struct ksigaction na, oa;
	if (sig < 1 || sig > NSIG || a3 != 8)
		return -EINVAL;
	if (a1 && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (a1 && copy_from_user(&na, (const void *)a1, sizeof(na)))
		return -EFAULT;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	oa = proc.actions[sig - 1];
	if (a1) {
		na.mask &= ~UNBLOCKABLE;
		proc.actions[sig - 1] = na;
		/* Setting SIG_IGN discards what is pending. */
		if (na.handler == SIG_IGN || (na.handler == SIG_DFL && default_ignored(sig))) {
			struct uthread *t;
			list_for_each_entry(t, &proc.threads, node)
				t->sigpending &= ~SIGBIT(sig);
		}
	}
	spin_unlock_irqrestore(&proc.lock, f);
	if (a2 && copy_to_user((void *)a2, &oa, sizeof(oa)))
		return -EFAULT;
	return 0;
}

#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

SYSCALL(14, rt_sigprocmask, 4)
{
	struct uthread *ut = current_uthread();
	uint64_t set, old = ut->sigmask;
	if (a3 != 8)
		return -EINVAL;
	if (a1) {
		if (copy_from_user(&set, (const void *)a1, 8))
			return -EFAULT;
		switch (a0) {
		case SIG_BLOCK:
			ut->sigmask |= set;
			break;
		case SIG_UNBLOCK:
			ut->sigmask &= ~set;
			break;
		case SIG_SETMASK:
			ut->sigmask = set;
			break;
		default:
			return -EINVAL;
		}
		ut->sigmask &= ~UNBLOCKABLE;
	}
	if (a2 && copy_to_user((void *)a2, &old, 8))
		return -EFAULT;
	return 0;
}

SYSCALL(127, rt_sigpending, 2)
{
	struct uthread *ut = current_uthread();
	uint64_t p = ut->sigpending;
	if (a1 != 8)
		return -EINVAL;
	return copy_to_user((void *)a0, &p, 8);
}

SYSCALL(130, rt_sigsuspend, 2)
{
	struct uthread *ut = current_uthread();
	uint64_t mask;
	if (a1 != 8)
		return -EINVAL;
	if (copy_from_user(&mask, (const void *)a0, 8))
		return -EFAULT;
	ut->saved_sigmask = ut->sigmask;
	ut->restore_sigmask = true;
	ut->sigmask = mask & ~UNBLOCKABLE;
	while (sleep_until_ns(~0ull >> 1) != -EINTR)
		;
	return -EINTR;
}

SYSCALL(15, rt_sigreturn, 0)
{
	struct uthread *ut = current_uthread();
	struct trap_frame *tf = ut->frame;
	struct rt_sigframe fr;
	uint64_t frame = tf->rsp - 8;

	if (copy_from_user(&fr, (const void *)frame, sizeof(fr))) {
		struct ksiginfo si = { .signo = SIGSEGV, .code = SI_KERNEL, .addr = frame };
		die(SIGSEGV, &si, tf);
	}
	struct sigcontext *mc = &fr.uc.mc;
	if (mc->fpstate) {
		struct fpu_state fs;
		if (fpu_frame_read(&fs, mc->fpstate)) {
			struct ksiginfo si = { .signo = SIGSEGV, .code = SI_KERNEL, .addr = mc->fpstate };
			die(SIGSEGV, &si, tf);
		}
		uint32_t mxcsr;
		memcpy(&mxcsr, fs.fx + 24, 4);
		mxcsr &= mxcsr_mask();
		memcpy(fs.fx + 24, &mxcsr, 4);
		fpu_load(ut, &fs);
	}
	tf->r8 = mc->r8, tf->r9 = mc->r9, tf->r10 = mc->r10, tf->r11 = mc->r11;
	tf->r12 = mc->r12, tf->r13 = mc->r13, tf->r14 = mc->r14, tf->r15 = mc->r15;
	tf->rdi = mc->rdi, tf->rsi = mc->rsi, tf->rbp = mc->rbp, tf->rbx = mc->rbx;
	tf->rdx = mc->rdx, tf->rax = mc->rax, tf->rcx = mc->rcx, tf->rsp = mc->rsp;
	/* iretq faults on a non-canonical rip: keep the value in the user half. */
	tf->rip = mc->rip < USER_TOP ? mc->rip : 0;
	tf->rflags = (tf->rflags & ~RFLAGS_USER_MASK) | (mc->eflags & RFLAGS_USER_MASK) | RFLAGS_IF;
	ut->sigmask = fr.uc.sigmask & ~UNBLOCKABLE;
	if (fr.uc.ss_size || fr.uc.ss_flags == SS_DISABLE) {
		ut->altstack_sp = fr.uc.ss_sp;
		ut->altstack_size = fr.uc.ss_flags == SS_DISABLE ? 0 : fr.uc.ss_size;
		ut->altstack_flags = fr.uc.ss_flags & SS_DISABLE;
	}
	return tf->rax;
}

struct stack_t {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

SYSCALL(131, sigaltstack, 2)
{
	struct uthread *ut = current_uthread();
	struct trap_frame *tf = ut->frame;
	struct stack_t old = { ut->altstack_sp, 0, 0, ut->altstack_size };
	old.flags = !ut->altstack_size ? SS_DISABLE : on_altstack(ut, tf->rsp) ? SS_ONSTACK : 0;
	if (a0) {
		struct stack_t ns;
		if (copy_from_user(&ns, (const void *)a0, sizeof(ns)))
			return -EFAULT;
		if (on_altstack(ut, tf->rsp))
			return -EPERM;
		if (ns.flags & ~(SS_DISABLE | (1 << 31)))
			return -EINVAL;
		if (ns.flags & SS_DISABLE) {
			ut->altstack_sp = 0;
			ut->altstack_size = 0;
		} else {
			if (ns.size < 2048)
				return -ENOMEM;
			ut->altstack_sp = ns.sp;
			ut->altstack_size = ns.size;
		}
		ut->altstack_flags = ns.flags & SS_DISABLE;
	}
	if (a1 && copy_to_user((void *)a1, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

static long send_to_thread(int tgid, int tid, int sig)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (tid <= 0)
		return -EINVAL;
	struct ksiginfo si = { .signo = sig, .code = SI_TKILL, .kill = { proc.pid, 0 } };
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct uthread *t = find_thread(tgid, tid);
	if (t && sig == SIGCONT)
		continue_process(t->process);
	long r = !t ? -ESRCH : sig ? signal_send(t, sig, &si) : 0;
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

SYSCALL(234, tgkill, 3)
{
	if ((int)a0 <= 0)
		return -EINVAL;
	return send_to_thread(a0, a1, a2);
}

SYSCALL(200, tkill, 2)
{
	return send_to_thread(0, a0, a1);
}

/* kill: pid > 0 that process, 0 the caller's group, -1 every process but
 * the first and the caller, < -1 the group -pid. */
SYSCALL(62, kill, 2)
{
	int pid = a0, sig = a1;
	struct process *self = &proc;
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	struct ksiginfo si = { .signo = sig, .code = SI_USER, .kill = { self->pid, 0 } };
	int pgid = pid == 0 ? self->pgid : pid < -1 ? -pid : 0;
	bool found = false;
	/* Sent under the lock, so no process leaves the list meanwhile; this
	 * thread's own SIGKILL takes effect when it returns to user mode. */
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p;
	list_for_each_entry(p, &procs, all) {
		bool hit = pid > 0 ? p->pid == pid
			 : pid == -1 ? p != init_process && p != self
			 : p->pgid == pgid;
		if (!hit)
			continue;
		found = true;
		if (sig && p->state == PROC_ALIVE)
			signal_send_process(p, sig, &si);
	}
	spin_unlock_irqrestore(&procs_lock, f);
	return found ? 0 : -ESRCH;
}

SYSCALL(34, pause, 0)
{
	while (sleep_until_ns(~0ull >> 1) != -EINTR)
		;
	return -EINTR;
}

/* --- faults and the return-to-user hook --- */

static void user_exception(struct trap_frame *tf)
{
	if (!trap_from_user(tf) || !current_uthread())
		trap_fatal(tf);
	switch (tf->vector) {
	case T_DE:
		signal_fault(tf, SIGFPE, FPE_INTDIV, tf->rip);
		break;
	case T_MF:
	case T_XM:
		signal_fault(tf, SIGFPE, FPE_FLTINV, tf->rip);
		break;
	case T_UD:
		signal_fault(tf, SIGILL, ILL_ILLOPN, tf->rip);
		break;
	case T_BP:
		signal_fault(tf, SIGTRAP, SI_KERNEL, 0);
		break;
	case T_AC:
	case T_SS:
		signal_fault(tf, SIGBUS, BUS_ADRERR, 0);
		break;
	default: /* #GP and the rest */
		signal_fault(tf, SIGSEGV, SI_KERNEL, 0);
		break;
	}
}

static void user_page_fault(struct trap_frame *tf, uintptr_t addr, int code)
{
	signal_fault(tf, SIGSEGV, code, addr);
}

static void (*sched_irq_exit)(struct trap_frame *tf);

/* Interrupts that arrive in user mode: after the scheduler's preemption point,
 * deliver what was sent meanwhile (e.g. Go's SIGURG preemption requests). */
static void irq_exit(struct trap_frame *tf)
{
	if (sched_irq_exit)
		sched_irq_exit(tf);
	if (trap_from_user(tf) && current_uthread())
		signal_deliver(tf);
}

void signal_init(void)
{
	static const unsigned vectors[] = { T_DE, T_BP, T_OF, T_BR, T_UD, T_GP, T_SS, T_MF, T_AC, T_XM, T_NP };
	for (unsigned i = 0; i < ARRAY_SIZE(vectors); i++)
		trap_set_handler(vectors[i], user_exception);
	uvm_user_fault_hook = user_page_fault;
	if (trap_irq_exit_hook != irq_exit) {
		sched_irq_exit = trap_irq_exit_hook;
		trap_irq_exit_hook = irq_exit;
	}
}

/* Kernel threads and the preemptive round-robin scheduler, one run queue per
 * CPU: new and woken threads go to an idle (else the least loaded) CPU, idle
 * CPUs take queued threads from busy ones before they halt. Threads are
 * joinable: call thread_join() or thread_detach() exactly once. */
#ifndef SCHED_THREAD_H
#define SCHED_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <lib/compiler.h>
#include <lib/list.h>
#include <time/timer.h>
#include <sched/wait.h>

enum thread_state {
	THREAD_RUNNABLE,  /* on a run queue, or running */
	THREAD_BLOCKED,   /* waiting for thread_wake() */
	THREAD_DEAD,
};

struct thread {
	uint64_t rsp;             /* saved stack pointer while switched out */
	void *stack;              /* kstack_alloc() bottom; NULL for the boot/idle thread */
	enum thread_state state;
	bool on_rq;               /* queued on a run queue */
	volatile bool on_cpu;     /* its stack is in use (until the switch away completes) */
	bool detached;
	unsigned id;
	char name[24];
	struct list rq_node;      /* run queue */
	struct list all_node;     /* every thread */
	struct timer sleep_timer;
	void (*fn)(void *);
	void *arg;
	struct wait_queue join_wq;
	uint64_t run_ns;          /* CPU time */
	uint64_t switched_in_at;
	uint64_t nr_switches;
	void *fpu_state;          /* THREAD_FPU threads only; NULL for kernel-only threads */
	void *rq;                 /* the run queue (CPU) it last ran or is queued on */
	uint64_t affinity;        /* CPUs it may run on (bit n = CPU n); 0: all */
	unsigned cpu;             /* the CPU it runs or last ran on */
	void *user;               /* owned by the process/ELF layer (later) */
};

void sched_init(void);
/* Give the calling application processor its run queue; the calling context
 * becomes its idle thread (then call sched_idle_loop()). */
void sched_init_ap(void);
/* Turns the calling (boot) context into this CPU's idle thread. */
void __noreturn sched_idle_loop(void);

/* Create a runnable thread; NULL when out of memory. */
struct thread *thread_create(const char *name, void (*fn)(void *arg), void *arg);

/* THREAD_FPU: the thread gets its own FPU/SSE state, saved and restored on
 * every switch (needed by threads that run user code). */
#define THREAD_FPU (1u << 0)
struct thread *thread_create_flags(const char *name, void (*fn)(void *arg), void *arg, unsigned flags);
/* Wait for t to exit and free it. */
void thread_join(struct thread *t);
/* Free t automatically when it exits. */
void thread_detach(struct thread *t);
void __noreturn thread_exit(void);

struct thread *thread_current(void);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void thread_sleep_until(uint64_t deadline_ns);

/* Low level (wait queues and mutexes build on these): mark the current thread
 * blocked, then schedule(); a thread_wake() in between is not lost. */
void thread_block(void);
/* Make a blocked thread runnable; safe from interrupt context and from any CPU. */
void thread_wake(struct thread *t);
/* If t is running on another CPU, interrupt it (an application thread then
 * sees pending signals on its way back to user mode). */
void thread_kick(struct thread *t);
/* Restrict t to the CPUs in mask (bit n = CPU n; 0 or all bits = any). The
 * current thread moves at once if its CPU is no longer allowed. */
void thread_set_affinity(struct thread *t, uint64_t mask);
/* The CPU t runs on, or last ran on. */
unsigned thread_cpu(struct thread *t);
void schedule(void);

/* Called with interrupts off just before the CPU switches from prev to next
 * (the application layer swaps the per-thread FS/GS base of user threads). */
extern void (*sched_switch_hook)(struct thread *prev, struct thread *next);

/* Disable/enable preemption (nesting). Interrupts still arrive. */
void preempt_disable(void);
void preempt_enable(void);

/* Statistics for tests and diagnostics. */
uint64_t sched_switches(void);
uint64_t sched_preemptions(void);
unsigned sched_nr_threads(void);
/* Threads moved between CPUs by wakeup placement, stealing or affinity. */
uint64_t sched_migrations(void);

#endif

/* Kernel threads and the preemptive round-robin scheduler. Threads are
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
	void *user;               /* owned by the process/ELF layer (later) */
};

void sched_init(void);
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
/* Make a blocked thread runnable; safe from interrupt context. */
void thread_wake(struct thread *t);
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

#endif

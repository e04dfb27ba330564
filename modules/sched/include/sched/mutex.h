/* Sleeping locks. Mutexes hand ownership over in FIFO order on unlock (no
 * starvation); semaphores count. Neither may be used from interrupt context,
 * except sem_up(). */
#ifndef SCHED_MUTEX_H
#define SCHED_MUTEX_H

#include <stdbool.h>
#include <stdint.h>
#include <sched/wait.h>

struct mutex {
	spinlock_t lock;
	struct thread *owner;
	struct list waiters;
};

#define MUTEX_INIT(name) { SPINLOCK_INIT, NULL, LIST_INIT((name).waiters) }

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_held(struct mutex *m); /* by the current thread */

struct semaphore {
	spinlock_t lock;
	long count;
	struct list waiters;
};

void sem_init(struct semaphore *s, long count);
void sem_down(struct semaphore *s);
/* Returns false when timeout_ns passed first. */
bool sem_down_timeout(struct semaphore *s, uint64_t timeout_ns);
bool sem_trydown(struct semaphore *s);
void sem_up(struct semaphore *s);

#endif

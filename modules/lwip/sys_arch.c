/* lwIP port: sys_arch on osvb's threads, mutexes, semaphores and wait queues. */
#include <lwip/opt.h>
#include <lwip/sys.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <devfs/devfs.h>
#include <lib/panic.h>
#include <lib/printf.h>
#include <mm/kmalloc.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>

int lwip_port_errno;

void *lwip_port_malloc(size_t size)
{
	return kmalloc(size);
}

void *lwip_port_calloc(size_t n, size_t size)
{
	return kcalloc(n, size);
}

void lwip_port_free(void *p)
{
	kfree(p);
}

void lwip_port_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwip: assertion \"%s\" failed at %s:%d", msg, file, line);
}

uint32_t lwip_port_rand(void)
{
	uint32_t r;
	random_bytes(&r, sizeof(r));
	return r;
}

void sys_init(void)
{
}

u32_t sys_now(void)
{
	return (u32_t)(clock_monotonic_ns() / NSEC_PER_MSEC);
}

/* lwIP nests SYS_ARCH_PROTECT in a few paths; the owner may re-enter. */
static spinlock_t prot_lock = SPINLOCK_INIT;
static struct thread *volatile prot_owner;
static unsigned prot_depth;

sys_prot_t sys_arch_protect(void)
{
	uint64_t f = irq_save();
	struct thread *me = thread_current();
	if (prot_owner != me) {
		spin_lock(&prot_lock);
		prot_owner = me;
	}
	prot_depth++;
	return f;
}

void sys_arch_unprotect(sys_prot_t f)
{
	if (--prot_depth == 0) {
		prot_owner = NULL;
		spin_unlock(&prot_lock);
	}
	irq_restore(f);
}

/* --- semaphores --- */

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
	struct semaphore *s = kmalloc(sizeof(*s));
	if (!s) {
		*sem = NULL;
		return ERR_MEM;
	}
	sem_init(s, count);
	*sem = s;
	return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem)
{
	kfree(*sem);
	*sem = NULL;
}

void sys_sem_signal(sys_sem_t *sem)
{
	sem_up(*sem);
}

/* timeout in ms, 0 = forever; returns the ms waited or SYS_ARCH_TIMEOUT. */
u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout)
{
	uint64_t start = clock_monotonic_ns();
	if (timeout == 0)
		sem_down(*sem);
	else if (!sem_down_timeout(*sem, (uint64_t)timeout * NSEC_PER_MSEC))
		return SYS_ARCH_TIMEOUT;
	return (u32_t)((clock_monotonic_ns() - start) / NSEC_PER_MSEC);
}

/* --- mutexes --- */

err_t sys_mutex_new(sys_mutex_t *mutex)
{
	struct mutex *m = kmalloc(sizeof(*m));
	if (!m) {
		*mutex = NULL;
		return ERR_MEM;
	}
	mutex_init(m);
	*mutex = m;
	return ERR_OK;
}

void sys_mutex_free(sys_mutex_t *mutex)
{
	kfree(*mutex);
	*mutex = NULL;
}

void sys_mutex_lock(sys_mutex_t *mutex)
{
	mutex_lock(*mutex);
}

void sys_mutex_unlock(sys_mutex_t *mutex)
{
	mutex_unlock(*mutex);
}

/* --- mailboxes: a ring of pointers; one wait queue for "not empty", one for "not full" --- */

struct lwip_mbox {
	spinlock_t lock;
	unsigned head, count, size;
	struct wait_queue readers, writers;
	void *slots[];
};

err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
	if (size <= 0)
		size = 128;
	struct lwip_mbox *m = kzalloc(sizeof(*m) + sizeof(void *) * (size_t)size);
	if (!m) {
		*mbox = NULL;
		return ERR_MEM;
	}
	spin_init(&m->lock);
	wait_queue_init(&m->readers);
	wait_queue_init(&m->writers);
	m->size = (unsigned)size;
	*mbox = m;
	return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
	kfree(*mbox);
	*mbox = NULL;
}

static bool mbox_put(struct lwip_mbox *m, void *msg)
{
	uint64_t f = spin_lock_irqsave(&m->lock);
	bool ok = m->count < m->size;
	if (ok) {
		m->slots[(m->head + m->count) % m->size] = msg;
		m->count++;
	}
	spin_unlock_irqrestore(&m->lock, f);
	if (ok)
		wake_up_one(&m->readers);
	return ok;
}

static bool mbox_get(struct lwip_mbox *m, void **msg)
{
	uint64_t f = spin_lock_irqsave(&m->lock);
	bool ok = m->count > 0;
	if (ok) {
		void *v = m->slots[m->head];
		m->head = (m->head + 1) % m->size;
		m->count--;
		if (msg)
			*msg = v;
	}
	spin_unlock_irqrestore(&m->lock, f);
	if (ok)
		wake_up_one(&m->writers);
	return ok;
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
	struct lwip_mbox *m = *mbox;
	wait_event(&m->writers, mbox_put(m, msg));
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
	return mbox_put(*mbox, msg) ? ERR_OK : ERR_MEM;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
	return sys_mbox_trypost(mbox, msg);
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout)
{
	struct lwip_mbox *m = *mbox;
	uint64_t start = clock_monotonic_ns();
	uint64_t deadline = timeout ? start + (uint64_t)timeout * NSEC_PER_MSEC : 0;
	/* Not wait_event_timeout: it may evaluate its condition twice after a
	 * timeout, and taking a message twice would lose the first one. */
	struct waiter w = { .queued = false };
	bool ok;
	for (;;) {
		wait_prepare(&m->readers, &w);
		if ((ok = mbox_get(m, msg)))
			break;
		if (!wait_block(deadline))
			break;
	}
	wait_finish(&m->readers, &w);
	if (!ok && !mbox_get(m, msg))
		return SYS_ARCH_TIMEOUT;
	return (u32_t)((clock_monotonic_ns() - start) / NSEC_PER_MSEC);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
	return mbox_get(*mbox, msg) ? 0 : SYS_MBOX_EMPTY;
}

/* --- threads --- */

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg, int stacksize, int prio)
{
	struct thread *t = thread_create(name, fn, arg);
	if (!t)
		panic("lwip: cannot create thread %s", name);
	thread_detach(t);
	return t;
}

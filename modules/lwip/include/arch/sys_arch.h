/* lwIP port: semaphores, mutexes, mailboxes and threads on osvb's scheduler
 * (lwIP's fixed name arch/sys_arch.h). Each object is a kmalloc'd kernel
 * object; the handle is its pointer, NULL when invalid. */
#ifndef LWIP_ARCH_SYS_ARCH_H
#define LWIP_ARCH_SYS_ARCH_H

struct semaphore;
struct mutex;
struct lwip_mbox;
struct thread;

typedef struct semaphore *sys_sem_t;
typedef struct mutex *sys_mutex_t;
typedef struct lwip_mbox *sys_mbox_t;
typedef struct thread *sys_thread_t;
typedef unsigned long sys_prot_t;

#define sys_sem_valid(s) (*(s) != NULL)
#define sys_sem_set_invalid(s) (*(s) = NULL)
#define sys_mutex_valid(m) (*(m) != NULL)
#define sys_mutex_set_invalid(m) (*(m) = NULL)
#define sys_mbox_valid(m) (*(m) != NULL)
#define sys_mbox_set_invalid(m) (*(m) = NULL)

#endif

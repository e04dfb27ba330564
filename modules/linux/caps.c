/* Privilege calls: capget/capset (the program is root with every
 * capability; it may drop some, as Linux lets root do), the set*id family
 * (one identity: setting it to root, or leaving it, succeeds; another id is
 * EPERM, as setuid and setgid answer) and prctl. */
#include "calls.h"
#include <lib/string.h>
#include <uaccess/uaccess.h>

#define CAP_V1 0x19980330
#define CAP_V2 0x20071026
#define CAP_V3 0x20080522
#define CAP_LAST_CAP 40 /* Linux 6.1: CAP_CHECKPOINT_RESTORE */
#define CAP_FULL ((1ull << (CAP_LAST_CAP + 1)) - 1)

struct cap_header {
	uint32_t version;
	int32_t pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static uint64_t cap_eff = CAP_FULL, cap_perm = CAP_FULL, cap_inh;

/* Check the header; words is 1 or 2 data records. */
static long cap_header(uint64_t uhdr, int *words)
{
	struct cap_header h;
	if (copy_from_user(&h, (const void *)uhdr, sizeof(h)))
		return -EFAULT;
	if (h.version != CAP_V1 && h.version != CAP_V2 && h.version != CAP_V3) {
		uint32_t v = CAP_V3;
		if (copy_to_user((void *)uhdr, &v, sizeof(v)))
			return -EFAULT;
		return -EINVAL;
	}
	if (h.pid < 0)
		return -EINVAL;
	if (h.pid && h.pid != proc.pid && !thread_exists(h.pid))
		return -ESRCH;
	*words = h.version == CAP_V1 ? 1 : 2;
	return 0;
}

SYSCALL(125, capget, 2)
{
	int words;
	long r = cap_header(a0, &words);
	if (!a1) /* a probe for the version: Linux answers 0 even for a bad one */
		return r == -EINVAL ? 0 : r;
	if (r)
		return r;
	struct cap_data d[2];
	for (int i = 0; i < 2; i++) {
		d[i].effective = cap_eff >> (32 * i);
		d[i].permitted = cap_perm >> (32 * i);
		d[i].inheritable = cap_inh >> (32 * i);
	}
	return copy_to_user((void *)a1, d, words * sizeof(d[0]));
}

SYSCALL(126, capset, 2)
{
	int words;
	long r = cap_header(a0, &words);
	if (r)
		return r;
	struct cap_data d[2] = { 0 };
	if (copy_from_user(d, (const void *)a1, words * sizeof(d[0])))
		return -EFAULT;
	uint64_t eff = d[0].effective | (uint64_t)d[1].effective << 32;
	uint64_t perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	uint64_t inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	/* Permitted can only shrink; effective stays within permitted. */
	if ((perm & ~cap_perm) || (eff & ~perm) || (inh & ~(cap_inh | cap_perm)))
		return -EPERM;
	cap_eff = eff & CAP_FULL;
	cap_perm = perm & CAP_FULL;
	cap_inh = inh & CAP_FULL;
	return 0;
}

/* Each argument: 0 (root) or -1 (unchanged). */
static long ids_root(int n, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t v[3] = { a, b, c };
	for (int i = 0; i < n; i++)
		if ((uint32_t)v[i] != 0 && (uint32_t)v[i] != 0xffffffffu)
			return -EPERM;
	return 0;
}

SYSCALL(113, setreuid, 2)
{
	return ids_root(2, a0, a1, 0);
}

SYSCALL(114, setregid, 2)
{
	return ids_root(2, a0, a1, 0);
}

SYSCALL(117, setresuid, 3)
{
	return ids_root(3, a0, a1, a2);
}

SYSCALL(119, setresgid, 3)
{
	return ids_root(3, a0, a1, a2);
}

/* setfsuid/setfsgid return the previous id (always 0). */
SYSCALL(122, setfsuid, 1)
{
	return 0;
}

SYSCALL(123, setfsgid, 1)
{
	return 0;
}

SYSCALL(116, setgroups, 2)
{
	if ((int64_t)(int32_t)a0 < 0 || a0 > 65536)
		return -EINVAL;
	for (uint64_t i = 0; i < a0; i++) {
		uint32_t g;
		if (copy_from_user(&g, (const void *)(a1 + 4 * i), 4))
			return -EFAULT;
		if (g != 0)
			return -EPERM;
	}
	return 0;
}

#define PR_SET_PDEATHSIG 1
#define PR_GET_PDEATHSIG 2
#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_GET_KEEPCAPS 7
#define PR_SET_KEEPCAPS 8
#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_GET_SECCOMP 21
#define PR_CAPBSET_READ 23
#define PR_CAPBSET_DROP 24
#define PR_GET_TIMERSLACK 30
#define PR_SET_TIMERSLACK 29
#define PR_SET_CHILD_SUBREAPER 36
#define PR_GET_CHILD_SUBREAPER 37
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39
#define PR_SET_THP_DISABLE 41
#define PR_GET_THP_DISABLE 42
#define PR_CAP_AMBIENT 47
#define PR_SET_VMA 0x53564d41

void prctl_inherit(struct uthread *child, const struct uthread *parent)
{
	memcpy(child->name, parent->name, sizeof(child->name));
	child->no_new_privs = parent->no_new_privs;
	child->keepcaps = parent->keepcaps;
	child->sched_policy = parent->sched_policy;
	child->sched_prio = parent->sched_prio;
}

SYSCALL(157, prctl, 5)
{
	struct uthread *ut = current_uthread();
	switch (a0) {
	case PR_SET_NAME: {
		char name[16];
		long n = strncpy_from_user(name, (const char *)a1, sizeof(name));
		if (n < 0)
			return n;
		name[sizeof(name) - 1] = 0;
		memcpy(ut->name, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME: {
		char name[16] = { 0 };
		strlcpy(name, ut->name[0] ? ut->name : proc.comm ? proc.comm : "app", sizeof(name));
		return copy_to_user((void *)a1, name, sizeof(name));
	}
	case PR_SET_PDEATHSIG:
		if (a1 > NSIG)
			return -EINVAL;
		ut->pdeathsig = a1;
		return 0;
	case PR_GET_PDEATHSIG: {
		int32_t v = ut->pdeathsig;
		return copy_to_user((void *)a1, &v, sizeof(v));
	}
	case PR_SET_NO_NEW_PRIVS:
		if (a1 != 1 || a2 || a3 || a4)
			return -EINVAL;
		ut->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (a1 || a2 || a3 || a4)
			return -EINVAL;
		return ut->no_new_privs;
	case PR_SET_DUMPABLE:
		return a1 > 1 ? -EINVAL : 0;
	case PR_GET_DUMPABLE:
		return 1;
	case PR_GET_KEEPCAPS:
		return ut->keepcaps;
	case PR_SET_KEEPCAPS:
		if (a1 > 1)
			return -EINVAL;
		ut->keepcaps = a1;
		return 0;
	case PR_GET_SECCOMP:
	case PR_GET_CHILD_SUBREAPER:
	case PR_GET_THP_DISABLE:
		return 0;
	case PR_SET_CHILD_SUBREAPER:
	case PR_SET_THP_DISABLE:
	case PR_SET_TIMERSLACK:
		return 0;
	case PR_GET_TIMERSLACK:
		return 50000;
	case PR_CAPBSET_READ:
		return a1 > CAP_LAST_CAP ? -EINVAL : 1;
	case PR_CAPBSET_DROP:
		return a1 > CAP_LAST_CAP ? -EINVAL : 0;
	case PR_CAP_AMBIENT:
		return a1 == 1 /* IS_SET */ ? 0 : a1 == 4 /* CLEAR_ALL */ ? 0 : -EINVAL;
	case PR_SET_VMA:
		return 0;
	default:
		return -EINVAL;
	}
}

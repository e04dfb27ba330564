/* A minimal /proc (and the few /sys files glibc and Go read): generated files
 * are produced when opened (a snapshot), the rest is ordinary tmpfs. */
#include <tmpfs/tmpfs.h>
#include <linux/process.h>
#include <uvm/uvm.h>
#include <arch/cpu.h>
#include <arch/smp.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <time/clock.h>
#include <vfs/errno.h>

struct snapshot {
	size_t len;
	char data[];
};

typedef size_t (*gen_fn)(char *buf, size_t size);

static int gen_open(struct inode *ino, struct file *f)
{
	gen_fn gen = (gen_fn)ino->priv;
	size_t cap = 64 << 10;
	struct snapshot *s = kmalloc(sizeof(*s) + cap);
	if (!s)
		return -ENOMEM;
	s->len = gen(s->data, cap);
	f->priv = s;
	return 0;
}

static ssize_t gen_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct snapshot *s = f->priv;
	if (*pos >= s->len)
		return 0;
	n = MIN(n, s->len - *pos);
	memcpy(buf, s->data + *pos, n);
	*pos += n;
	return n;
}

static void gen_release(struct file *f)
{
	kfree(f->priv);
}

static const struct file_ops gen_ops = { .open = gen_open, .read = gen_read, .release = gen_release };

/* The generated inode keeps its function in priv; tmpfs must not free it. */
static struct inode_ops gen_iops;
static struct inode_ops link_iops;

static void gen_destroy(struct inode *ino)
{
	(void)ino;
}

static int add_gen(const char *path, gen_fn fn)
{
	int r = vfs_mknod(NULL, path, S_IFREG | 0444, &gen_ops, (void *)fn);
	if (r)
		return r;
	struct inode *ino;
	if (vfs_walk(NULL, path, 0, &ino, NULL, NULL))
		return -ENOENT;
	if (!gen_iops.lookup) {
		gen_iops = *ino->iops;
		gen_iops.destroy = gen_destroy;
		gen_iops.truncate = NULL;
	}
	ino->iops = &gen_iops;
	inode_put(ino);
	return 0;
}

static ssize_t exe_readlink(struct inode *ino, char *buf, size_t size)
{
	(void)ino;
	const char *p = process_exe_path();
	size_t n = strlen(p);
	if (!n)
		return -ENOENT;
	n = MIN(n, size);
	memcpy(buf, p, n);
	return n;
}

static int add_static(const char *path, const char *text)
{
	struct file *f;
	int r = vfs_open(NULL, path, O_WRONLY | O_CREAT | O_TRUNC, 0444, &f);
	if (r)
		return r;
	vfs_write(f, text, strlen(text), &f->pos);
	file_put(f);
	return 0;
}

static size_t gen_maps(char *buf, size_t size)
{
	return uvm_format_maps(buf, size);
}

static size_t gen_cmdline(char *buf, size_t size)
{
	return process_cmdline(buf, size);
}

static size_t gen_meminfo(char *buf, size_t size)
{
	unsigned long total = page_total_count() * 4, free = page_free_count() * 4;
	int n = snprintf(buf, size,
			 "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
			 "Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\n"
			 "SwapFree:              0 kB\n",
			 total, free, free);
	return MIN((size_t)n, size);
}

/* "0" or "0-N" for the online CPUs (ids are dense). */
static const char *cpu_list(void)
{
	static char list[16];
	if (cpu_count() == 1)
		snprintf(list, sizeof(list), "0");
	else
		snprintf(list, sizeof(list), "0-%u", cpu_count() - 1);
	return list;
}

static size_t gen_cpuinfo(char *buf, size_t size)
{
	uint32_t a, b, c, d, sig[3];
	char brand[49] = { 0 };
	cpuid(0, 0, &a, &sig[0], &sig[2], &sig[1]);
	char vendor[13];
	memcpy(vendor, sig, 12);
	vendor[12] = 0;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000004)
		for (uint32_t l = 0; l < 3; l++)
			cpuid(0x80000002 + l, 0, (uint32_t *)(brand + 16 * l), (uint32_t *)(brand + 16 * l + 4),
			      (uint32_t *)(brand + 16 * l + 8), (uint32_t *)(brand + 16 * l + 12));
	cpuid(1, 0, &a, &b, &c, &d);
	static const char *const dflags[32] = { "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8",
						"apic", NULL, "sep", "mtrr", "pge", "mca", "cmov", "pat",
						"pse36", NULL, "clflush", NULL, NULL, NULL, "mmx", "fxsr",
						"sse", "sse2" };
	static const char *const cflags[32] = { [0] = "pni", [1] = "pclmulqdq", [9] = "ssse3", [12] = "fma",
						[13] = "cx16", [19] = "sse4_1", [20] = "sse4_2", [22] = "movbe",
						[23] = "popcnt", [25] = "aes", [30] = "rdrand", [31] = "hypervisor" };
	/* One record per online CPU, as Linux prints them. */
	int n = 0;
	unsigned ncpu = cpu_count();
	for (unsigned cpu = 0; cpu < ncpu && (size_t)n < size; cpu++) {
		const struct percpu *pc = cpu_percpu(cpu);
		n += snprintf(buf + n, size - n,
			      "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\n"
			      "stepping\t: %u\ncpu MHz\t\t: %lu.000\ncache size\t: 512 KB\nphysical id\t: 0\n"
			      "siblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\napicid\t\t: %u\nfpu\t\t: yes\n"
			      "cpuid level\t: %u\nflags\t\t:",
			      cpu, vendor, (a >> 8) & 0xf, (a >> 4) & 0xf, brand[0] ? brand : "x86-64 CPU", a & 0xf,
			      (unsigned long)(clock_tsc_hz() / 1000000), ncpu, cpu, ncpu, pc ? pc->apic_id : cpu,
			      sig[0] ? 13u : 0u);
		for (int i = 0; i < 32 && (size_t)n < size; i++)
			if ((d >> i) & 1 && dflags[i])
				n += snprintf(buf + n, size - n, " %s", dflags[i]);
		for (int i = 0; i < 32 && (size_t)n < size; i++)
			if ((c >> i) & 1 && cflags[i])
				n += snprintf(buf + n, size - n, " %s", cflags[i]);
		if ((size_t)n < size)
			n += snprintf(buf + n, size - n, " syscall nx lm\n\n");
	}
	return MIN((size_t)n, size);
}

static size_t gen_uptime(char *buf, size_t size)
{
	uint64_t ns = clock_monotonic_ns();
	int n = snprintf(buf, size, "%lu.%02lu 0.00\n", (unsigned long)(ns / 1000000000),
			 (unsigned long)(ns / 10000000 % 100));
	return MIN((size_t)n, size);
}

/* --- /proc/self/fd: a directory listing the open descriptors --- */

static struct super fd_sb = { .fstype = "proc", .dev = 0x50 };
static struct inode_ops fdlink_iops;

static ssize_t fdlink_readlink(struct inode *ino, char *buf, size_t size)
{
	return process_fd_link((int)(uintptr_t)ino->priv, buf, size);
}

static void fdlink_destroy(struct inode *ino)
{
	(void)ino;
}

static int fddir_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	(void)dir;
	int fd = 0;
	if (len == 0 || len > 4)
		return -ENOENT;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -ENOENT;
		fd = fd * 10 + (name[i] - '0');
	}
	if (process_next_fd(fd) != fd)
		return -ENOENT;
	/* A fresh link inode, gone with its last reference (nlink 0). */
	struct inode *ino = inode_new(&fd_sb, S_IFLNK | 0700);
	if (!ino)
		return -ENOMEM;
	ino->nlink = 0;
	ino->iops = &fdlink_iops;
	ino->priv = (void *)(uintptr_t)fd;
	*out = ino;
	return 0;
}

static int fddir_readdir(struct inode *dir, uint64_t idx, struct vfs_dirent *out)
{
	static char name[8];
	if (idx < 2) {
		*out = (struct vfs_dirent){ idx ? ".." : ".", idx + 1, dir->ino, DT_DIR };
		return 0;
	}
	int fd = -1;
	for (uint64_t i = 2; i <= idx; i++) {
		fd = process_next_fd(fd + 1);
		if (fd < 0)
			return 1;
	}
	int n = snprintf(name, sizeof(name), "%d", fd);
	*out = (struct vfs_dirent){ name, (size_t)n, 1000 + fd, DT_LNK };
	return 0;
}

static struct inode_ops fddir_iops;

static void make_fd_dir(void)
{
	struct inode *dir;
	if (vfs_walk(NULL, "/proc/self/fd", 0, &dir, NULL, NULL))
		return;
	fdlink_iops = (struct inode_ops){ .readlink = fdlink_readlink, .destroy = fdlink_destroy };
	fddir_iops = *dir->iops;
	fddir_iops.lookup = fddir_lookup;
	fddir_iops.readdir = fddir_readdir;
	fddir_iops.create = NULL;
	fddir_iops.unlink = NULL;
	fddir_iops.rename = NULL;
	fddir_iops.link = NULL;
	dir->iops = &fddir_iops;
	inode_put(dir);
}

static size_t gen_loadavg(char *buf, size_t size)
{
	int n = snprintf(buf, size, "0.00 0.00 0.00 1/%d %d\n", process_threads(), process_pid());
	return MIN((size_t)n, size);
}

static size_t gen_status(char *buf, size_t size)
{
	const char *exe = process_exe_path(), *slash = strrchr(exe, '/');
	int n = snprintf(buf, size,
			 "Name:\t%.15s\nUmask:\t0022\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"
			 "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmRSS:\t%8lu kB\nThreads:\t%d\n"
			 "Cpus_allowed:\t%lx\nCpus_allowed_list:\t%s\n",
			 slash ? slash + 1 : exe, process_pid(), process_pid(), process_ppid(),
			 (unsigned long)(uvm_resident_pages() * 4), process_threads(),
			 (unsigned long)(cpu_count() >= 64 ? ~0ull : (1ull << cpu_count()) - 1), cpu_list());
	return MIN((size_t)n, size);
}

static size_t gen_stat(char *buf, size_t size)
{
	uint64_t ticks = clock_monotonic_ns() / 10000000;
	uint64_t btime = (clock_realtime_ns() - clock_monotonic_ns()) / 1000000000;
	int n = snprintf(buf, size, "cpu  %lu 0 0 0 0 0 0 0 0 0\n", (unsigned long)(ticks * cpu_count()));
	for (unsigned cpu = 0; cpu < cpu_count() && (size_t)n < size; cpu++)
		n += snprintf(buf + n, size - n, "cpu%u %lu 0 0 0 0 0 0 0 0 0\n", cpu, (unsigned long)ticks);
	if ((size_t)n < size)
		n += snprintf(buf + n, size - n, "ctxt 0\nbtime %lu\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n",
			      (unsigned long)btime);
	return MIN((size_t)n, size);
}

static size_t gen_mounts(char *buf, size_t size)
{
	static const char text[] = "tmpfs / tmpfs rw 0 0\ndevtmpfs /dev devtmpfs rw 0 0\n"
				   "proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 0\n";
	size_t n = MIN(sizeof(text) - 1, size);
	memcpy(buf, text, n);
	return n;
}

static int procfs_init(void)
{
	struct inode *proc = tmpfs_new("proc");
	if (!proc)
		return -ENOMEM;
	int r = vfs_mkdir(NULL, "/proc", 0555);
	if (r && r != -EEXIST)
		return r;
	if ((r = vfs_mount("/proc", proc)))
		return r;
	vfs_mkdir(NULL, "/proc/self", 0555);
	vfs_mkdir(NULL, "/proc/self/fd", 0500);
	make_fd_dir();
	vfs_mkdir(NULL, "/proc/sys", 0555);
	vfs_mkdir(NULL, "/proc/sys/kernel", 0555);
	vfs_mkdir(NULL, "/proc/sys/vm", 0555);
	add_gen("/proc/self/maps", gen_maps);
	add_gen("/proc/self/cmdline", gen_cmdline);
	add_gen("/proc/meminfo", gen_meminfo);
	add_gen("/proc/cpuinfo", gen_cpuinfo);
	add_gen("/proc/uptime", gen_uptime);
	add_gen("/proc/loadavg", gen_loadavg);
	add_gen("/proc/self/status", gen_status);
	add_gen("/proc/stat", gen_stat);
	add_gen("/proc/mounts", gen_mounts);
	add_gen("/proc/self/mounts", gen_mounts);
	add_static("/proc/version", "Linux version 6.1.0-osvb (osvb) #1 SMP\n");
	/* Tools such as df read the mount table through /etc/mtab. */
	vfs_mkdir(NULL, "/etc", 0755);
	vfs_symlink(NULL, "/proc/self/mounts", "/etc/mtab");
	add_static("/proc/sys/kernel/osrelease", "6.1.0-osvb\n");
	add_static("/proc/sys/kernel/ostype", "Linux\n");
	add_static("/proc/sys/vm/overcommit_memory", "0\n");
	add_static("/proc/filesystems", "nodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\n");
	if (!vfs_symlink(NULL, "/", "/proc/self/exe")) {
		struct inode *ino;
		if (!vfs_walk(NULL, "/proc/self/exe", WALK_NOFOLLOW, &ino, NULL, NULL)) {
			link_iops = *ino->iops;
			link_iops.readlink = exe_readlink;
			ino->iops = &link_iops;
			inode_put(ino);
		}
	}
	/* /sys: what glibc's sysconf and Go's runtime look at. */
	struct inode *sys = tmpfs_new("sysfs");
	r = sys ? vfs_mkdir(NULL, "/sys", 0555) : -ENOMEM;
	/* The rootfs may have /sys already (as an empty mount point). */
	if ((r == 0 || r == -EEXIST) && !vfs_mount("/sys", sys)) {
		vfs_mkdir(NULL, "/sys/devices", 0755);
		vfs_mkdir(NULL, "/sys/devices/system", 0755);
		vfs_mkdir(NULL, "/sys/devices/system/cpu", 0755);
		/* Read once here: CPUs come up at INIT_CORE, before this. */
		char line[20];
		snprintf(line, sizeof(line), "%s\n", cpu_list());
		add_static("/sys/devices/system/cpu/online", line);
		add_static("/sys/devices/system/cpu/possible", line);
		add_static("/sys/devices/system/cpu/present", line);
		for (unsigned cpu = 0; cpu < cpu_count(); cpu++) {
			char dir[48];
			snprintf(dir, sizeof(dir), "/sys/devices/system/cpu/cpu%u", cpu);
			vfs_mkdir(NULL, dir, 0755);
		}
		vfs_mkdir(NULL, "/sys/kernel", 0755);
		vfs_mkdir(NULL, "/sys/kernel/mm", 0755);
		vfs_mkdir(NULL, "/sys/kernel/mm/transparent_hugepage", 0755);
		add_static("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n");
		add_static("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
	}
	return 0;
}

INITCALL(INIT_LATE, procfs_init);

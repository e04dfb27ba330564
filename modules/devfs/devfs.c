/* devfs: a tmpfs mounted on /dev holding device nodes whose file operations
 * are the devices: null, zero, full, random, urandom, console, tty and ttyS0
 * (the application's stdin and stdout on COM1), ttyS2 (its stderr on COM3). */
#include <devfs/devfs.h>
#include <tmpfs/tmpfs.h>
#include <uaccess/uaccess.h>
#include <console/printk.h>
#include <console/console.h>
#include <init/initcall.h>
#include <lib/compiler.h>
#include <lib/string.h>
#include <vfs/errno.h>

#define MKDEV(ma, mi) (((ma) << 8) | (mi))

static ssize_t null_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)buf, (void)n, (void)pos;
	return 0;
}

static ssize_t null_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)buf, (void)pos;
	return n;
}

static ssize_t zero_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)pos;
	memset(buf, 0, n);
	return n;
}

static ssize_t full_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)buf, (void)n, (void)pos;
	return -ENOSPC;
}

static ssize_t random_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)pos;
	random_bytes(buf, n);
	return n;
}

static unsigned always_ready(struct file *f)
{
	(void)f;
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

static const struct file_ops null_ops = { .read = null_read, .write = null_write, .poll = always_ready };
static const struct file_ops zero_ops = { .read = zero_read, .write = null_write, .poll = always_ready };
static const struct file_ops full_ops = { .read = zero_read, .write = full_write, .poll = always_ready };
static const struct file_ops random_ops = { .read = random_read, .write = null_write, .poll = always_ready };

/* --- the console (serial ports through the console module) --- */

static ssize_t cons_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	enum console_stdin mode = console_stdin_mode();
	bool nonblock = f->flags & O_NONBLOCK;

	if (mode == STDIN_STREAM) {
		/* The host's stdin: block until bytes or its end of file. */
		size_t got = console_read(buf, n, !nonblock);
		if (!got && !console_input_ended())
			return -EAGAIN;
		return got;
	}
	/* By default nothing waiting reads as end of file: an image booted
	 * without osvb run usually has no terminal, and a read must not hang
	 * the VM. osvb.stdin=wait makes reads block like a terminal's. */
	bool wait = mode == STDIN_WAIT;
	size_t got = console_read(buf, n, wait && !nonblock);
	if (!got && wait && nonblock)
		return -EAGAIN;
	char *p = buf;
	for (size_t i = 0; i < got; i++)
		if (p[i] == '\r')
			p[i] = '\n'; /* a raw terminal's Enter */
	return got;
}

static ssize_t cons_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)pos;
	console_out(CONSOLE_STDOUT, buf, n);
	return n;
}

static ssize_t cons_write_err(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)f, (void)pos;
	console_out(CONSOLE_STDERR, buf, n);
	return n;
}

struct termios {
	uint32_t iflag, oflag, cflag, lflag;
	uint8_t line;
	uint8_t cc[19];
};

#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TIOCGPGRP 0x540f
#define TIOCSPGRP 0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD 0x541b

static struct termios tio = {
	.iflag = 0x500,   /* ICRNL | IXON */
	.oflag = 0x5,     /* OPOST | ONLCR */
	.cflag = 0xbf,    /* B38400 | CS8 | CREAD */
	.lflag = 0x8a3b,  /* ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN */
	.cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22 },
};

static int cons_ioctl(struct file *f, unsigned cmd, unsigned long arg)
{
	unsigned rows, cols;

	(void)f;
	if (cmd == FIONREAD) { /* as on a pipe or a terminal */
		int32_t n = (int32_t)console_input_pending();
		return copy_to_user((void *)arg, &n, sizeof(n));
	}
	/* A terminal only when the host's stdout is one (osvb.tty): programs
	 * colour or page their output when isatty() says so. */
	if (!console_is_tty(&rows, &cols))
		return -ENOTTY;
	switch (cmd) {
	case TCGETS:
		return copy_to_user((void *)arg, &tio, sizeof(tio));
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return copy_from_user(&tio, (const void *)arg, sizeof(tio));
	case TIOCGWINSZ: {
		uint16_t ws[4] = { (uint16_t)rows, (uint16_t)cols, 0, 0 };
		return copy_to_user((void *)arg, ws, sizeof(ws));
	}
	case TIOCSWINSZ:
		return 0;
	case TIOCGPGRP: {
		int32_t pg = 1;
		return copy_to_user((void *)arg, &pg, sizeof(pg));
	}
	case TIOCSPGRP:
		return 0;
	default:
		return -ENOTTY;
	}
}

static unsigned cons_poll(struct file *f)
{
	(void)f;
	unsigned m = POLLOUT | POLLWRNORM;
	if (console_input_ready() || console_stdin_mode() == STDIN_EOF)
		m |= POLLIN | POLLRDNORM;
	return m;
}

/* stdin and stdout: COM1 */
static const struct file_ops console_ops = {
	.read = cons_read, .write = cons_write, .ioctl = cons_ioctl, .poll = cons_poll, .stream = true,
};
/* stderr: COM3 (reads are stdin, as on a terminal) */
static const struct file_ops console_err_ops = {
	.read = cons_read, .write = cons_write_err, .ioctl = cons_ioctl, .poll = cons_poll, .stream = true,
};

int devfs_add(const char *name, uint32_t mode, uint32_t rdev, const struct file_ops *fops, void *priv)
{
	char path[64];
	size_t n = strlen(name);
	if (n + 6 > sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, "/dev/", 5);
	memcpy(path + 5, name, n + 1);
	int r = vfs_mknod(NULL, path, mode, fops, priv);
	if (r)
		return r;
	struct inode *ino;
	if (!vfs_walk(NULL, path, 0, &ino, NULL, NULL)) {
		ino->rdev = rdev;
		inode_put(ino);
	}
	return 0;
}

static int devfs_init(void)
{
	struct inode *root = tmpfs_new("devtmpfs");
	int r;

	if (!root)
		return -ENOMEM;
	r = vfs_mkdir(NULL, "/dev", 0755);
	if (r && r != -EEXIST)
		return r;
	r = vfs_mount("/dev", root);
	if (r)
		return r;
	devfs_add("null", S_IFCHR | 0666, MKDEV(1, 3), &null_ops, NULL);
	devfs_add("zero", S_IFCHR | 0666, MKDEV(1, 5), &zero_ops, NULL);
	devfs_add("full", S_IFCHR | 0666, MKDEV(1, 7), &full_ops, NULL);
	devfs_add("random", S_IFCHR | 0666, MKDEV(1, 8), &random_ops, NULL);
	devfs_add("urandom", S_IFCHR | 0666, MKDEV(1, 9), &random_ops, NULL);
	devfs_add("console", S_IFCHR | 0600, MKDEV(5, 1), &console_ops, NULL);
	devfs_add("tty", S_IFCHR | 0666, MKDEV(5, 0), &console_ops, NULL);
	devfs_add("ttyS0", S_IFCHR | 0660, MKDEV(4, 64), &console_ops, NULL);
	devfs_add("ttyS2", S_IFCHR | 0660, MKDEV(4, 66), &console_err_ops, NULL);
	vfs_mkdir(NULL, "/dev/shm", 01777);
	vfs_mkdir(NULL, "/dev/pts", 0755);
	vfs_symlink(NULL, "/proc/self/fd", "/dev/fd");
	vfs_symlink(NULL, "/proc/self/fd/0", "/dev/stdin");
	vfs_symlink(NULL, "/proc/self/fd/1", "/dev/stdout");
	vfs_symlink(NULL, "/proc/self/fd/2", "/dev/stderr");
	/* /tmp exists even when the archive did not ship it. */
	vfs_mkdir(NULL, "/tmp", 01777);
	return 0;
}

INITCALL(INIT_LATE, devfs_init);

/* AVX state per thread and across signals: two threads keep their own ymm
 * registers across many context switches; a signal handler that clobbers
 * every ymm register does not disturb the interrupted code; the signal
 * frame's fpstate is an XSAVE area marked as Linux marks it (uc_flags'
 * UC_FP_XSTATE, FP_XSTATE_MAGIC1/2) and a change the handler makes to the
 * saved ymm state is what the interrupted code gets back. Built with -mavx2. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static int failures;
#define CHECK(name, cond, ...)                                   \
	do {                                                     \
		if (cond)                                        \
			printf("ok %s\n", name);                 \
		else {                                           \
			failures++;                              \
			printf("FAIL %s: ", name);               \
			printf(__VA_ARGS__);                     \
			printf("\n");                            \
		}                                                \
	} while (0)

/* Load 16 ymm registers from in (16 x 32 bytes), run body, store them to out. */
#define YMM_ROUNDTRIP(in, out, body)                                                                      \
	__asm__ __volatile__("vmovdqu 0(%0), %%ymm0\n vmovdqu 32(%0), %%ymm1\n vmovdqu 64(%0), %%ymm2\n"       \
			     "vmovdqu 96(%0), %%ymm3\n vmovdqu 128(%0), %%ymm4\n vmovdqu 160(%0), %%ymm5\n"   \
			     "vmovdqu 192(%0), %%ymm6\n vmovdqu 224(%0), %%ymm7\n vmovdqu 256(%0), %%ymm8\n"  \
			     "vmovdqu 288(%0), %%ymm9\n vmovdqu 320(%0), %%ymm10\n vmovdqu 352(%0), %%ymm11\n" \
			     "vmovdqu 384(%0), %%ymm12\n vmovdqu 416(%0), %%ymm13\n vmovdqu 448(%0), %%ymm14\n" \
			     "vmovdqu 480(%0), %%ymm15\n" body                                               \
			     "vmovdqu %%ymm0, 0(%1)\n vmovdqu %%ymm1, 32(%1)\n vmovdqu %%ymm2, 64(%1)\n"      \
			     "vmovdqu %%ymm3, 96(%1)\n vmovdqu %%ymm4, 128(%1)\n vmovdqu %%ymm5, 160(%1)\n"   \
			     "vmovdqu %%ymm6, 192(%1)\n vmovdqu %%ymm7, 224(%1)\n vmovdqu %%ymm8, 256(%1)\n"  \
			     "vmovdqu %%ymm9, 288(%1)\n vmovdqu %%ymm10, 320(%1)\n vmovdqu %%ymm11, 352(%1)\n" \
			     "vmovdqu %%ymm12, 384(%1)\n vmovdqu %%ymm13, 416(%1)\n vmovdqu %%ymm14, 448(%1)\n" \
			     "vmovdqu %%ymm15, 480(%1)\n"                                                    \
			     :                                                                               \
			     : "r"(in), "r"(out)                                                             \
			     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "xmm0",   \
			       "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",  \
			       "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")

static void fill(uint8_t *buf, int seed)
{
	for (int i = 0; i < 512; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 4));
}

/* 200 sched_yield system calls with the registers live. */
#define YIELDS                                                        \
	"mov $200, %%r8d\n"                                           \
	"1: mov $24, %%eax\n syscall\n dec %%r8d\n jnz 1b\n"

static void *worker(void *arg)
{
	int seed = (int)(intptr_t)arg;
	uint8_t in[512], out[512];
	int bad = 0;
	for (int round = 0; round < 20; round++) {
		fill(in, seed + round);
		YMM_ROUNDTRIP(in, out, YIELDS);
		if (memcmp(in, out, 512))
			bad++;
	}
	return (void *)(intptr_t)bad;
}

#define UC_FP_XSTATE 1
static volatile int sig_flags_ok, sig_magic_ok, sig_saw_upper;
static uint8_t clobber[512];
static uint8_t expect_upper0[16];

static void handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig, (void)si;
	ucontext_t *uc = ucv;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t m1, size, m2;
	memcpy(&m1, fp + 464, 4);
	memcpy(&size, fp + 480, 4); /* xstate_size */
	memcpy(&m2, fp + size, 4);
	sig_flags_ok = (uc->uc_flags & UC_FP_XSTATE) != 0;
	sig_magic_ok = m1 == FP_XSTATE_MAGIC1 && m2 == FP_XSTATE_MAGIC2 && size >= 832;
	/* The AVX component (standard format, offset 576): ymm0's upper half. */
	sig_saw_upper = !memcmp(fp + 576, expect_upper0, 16);
	/* Hand back a different upper half of ymm1. */
	memset(fp + 576 + 16, 0xab, 16);
	uint8_t junk[512];
	YMM_ROUNDTRIP(clobber, junk, "");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	__builtin_cpu_init();
	printf("cpu avx2=%d avx=%d\n", __builtin_cpu_supports("avx2") ? 1 : 0, __builtin_cpu_supports("avx") ? 1 : 0);
	if (!__builtin_cpu_supports("avx2")) {
		printf("no avx2\n");
		return 2;
	}
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)(i * 1000 + 1));
	void *r0, *r1;
	pthread_join(t[0], &r0);
	pthread_join(t[1], &r1);
	CHECK("ymm_two_threads", r0 == NULL && r1 == NULL, "bad rounds %ld %ld", (long)(intptr_t)r0,
	      (long)(intptr_t)r1);

	struct sigaction sa = { 0 };
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	fill(clobber, 777);
	uint8_t in[512], out[512];
	fill(in, 42);
	memcpy(expect_upper0, in + 16, 16);
	/* kill(getpid(), SIGUSR1) by system call with the registers live. */
	YMM_ROUNDTRIP(in, out, "mov $39, %%eax\n syscall\n mov %%eax, %%edi\n mov $10, %%esi\n mov $62, %%eax\n syscall\n");
	uint8_t want[512];
	memcpy(want, in, 512);
	memset(want + 32 + 16, 0xab, 16); /* the handler's change to ymm1's upper half */
	CHECK("ymm_across_signal", !memcmp(out, want, 512), "registers differ after the handler");
	CHECK("sigframe_uc_fp_xstate", sig_flags_ok, "uc_flags without UC_FP_XSTATE");
	CHECK("sigframe_xstate_magic", sig_magic_ok, "no FP_XSTATE_MAGIC1/2");
	CHECK("sigframe_ymm_saved", sig_saw_upper, "ymm0's upper half not in the frame");
	printf("avx done failures=%d\n", failures);
	fflush(stdout);
	if (!failures) {
		/* glibc's own view: x86-64-v3 (AVX2 usable) among its hwcaps levels. */
		char *argv[] = { "ld.so", "--list-diagnostics", NULL };
		execv("/lib64/ld-linux-x86-64.so.2", argv);
		perror("execv");
	}
	return failures != 0;
}

/* The instructions that touch user memory, each with an entry in the local
 * fixup table (faulting instruction -> error exit) read by uaccess_fixup(). */

	.text
/* size_t __copy_user(void *dst, const void *src, size_t n): bytes NOT copied. */
	.globl __copy_user
__copy_user:
	movq %rdx, %rcx
1:	rep movsb
	xorl %eax, %eax
	ret
2:	movq %rcx, %rax
	ret

/* size_t __clear_user(void *dst, size_t n): bytes NOT cleared. */
	.globl __clear_user
__clear_user:
	movq %rsi, %rcx
	xorl %eax, %eax
3:	rep stosb
	xorl %eax, %eax
	ret
4:	movq %rcx, %rax
	ret

/* int __get_user_4(uint32_t *out, const uint32_t *uaddr) */
	.globl __get_user_4
__get_user_4:
5:	movl (%rsi), %eax
	movl %eax, (%rdi)
	xorl %eax, %eax
	ret

/* int __put_user_4(uint32_t *uaddr, uint32_t v) */
	.globl __put_user_4
__put_user_4:
6:	movl %esi, (%rdi)
	xorl %eax, %eax
	ret

/* int __get_user_8(uint64_t *out, const uint64_t *uaddr) */
	.globl __get_user_8
__get_user_8:
7:	movq (%rsi), %rax
	movq %rax, (%rdi)
	xorl %eax, %eax
	ret

/* int __put_user_8(uint64_t *uaddr, uint64_t v) */
	.globl __put_user_8
__put_user_8:
8:	movq %rsi, (%rdi)
	xorl %eax, %eax
	ret

/* int __cmpxchg_user_4(uint32_t *uaddr, uint32_t *old, uint32_t newv) */
	.globl __cmpxchg_user_4
__cmpxchg_user_4:
	movl (%rsi), %eax
9:	lock cmpxchgl %edx, (%rdi)
	movl %eax, (%rsi)
	xorl %eax, %eax
	ret

efault:
	movl $-14, %eax
	ret

	.section .rodata
	.balign 8
	.globl __uaccess_fixups, __uaccess_fixups_end
__uaccess_fixups:
	.quad 1b, 2b
	.quad 3b, 4b
	.quad 5b, efault
	.quad 6b, efault
	.quad 7b, efault
	.quad 8b, efault
	.quad 9b, efault
__uaccess_fixups_end:

	.section .note.GNU-stack, "", @progbits

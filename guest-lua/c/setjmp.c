/*
 * The runtime half of LLVM's setjmp/longjmp lowering for WebAssembly (see LLVM's
 * WebAssemblyLowerEmscriptenEHSjLj pass). The compiler rewrites every setjmp into
 * __wasm_setjmp plus a `try_table` that catches the C longjmp tag, and every longjmp
 * into __wasm_longjmp, which throws that tag with the jump's {env, val}.
 */
#include <stddef.h>
#include <stdint.h>

struct jump_arg {
    void *env;
    int val;
};

/* Must fit in the libc jmp_buf. */
struct jump_buf {
    void *func_invocation_id;
    uint32_t label;
    struct jump_arg arg;
};

#if __clang_major__ >= 22
/* Newer clang no longer emits the exception tag itself. */
__asm__(".globl __c_longjmp\n"
        ".tagtype __c_longjmp i32\n"
        "__c_longjmp:\n");
#endif

void __wasm_setjmp(void *env, uint32_t label, void *func_invocation_id) {
    struct jump_buf *jb = env;
    if (label == 0 || func_invocation_id == NULL) {
        __builtin_trap();
    }
    jb->func_invocation_id = func_invocation_id;
    jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *func_invocation_id) {
    struct jump_buf *jb = env;
    return jb->func_invocation_id == func_invocation_id ? jb->label : 0;
}

void __wasm_longjmp(void *env, int val) {
    struct jump_buf *jb = env;
    jb->arg.env = env;
    jb->arg.val = val == 0 ? 1 : val;
    __builtin_wasm_throw(1, &jb->arg); /* tag 1: the C longjmp tag */
}

/*
 * lua-src links against wasi-libc's emulated-signal library, which Rust's bundled
 * wasi-libc lacks. Nothing in liblua raises or handles signals, so refusing is enough.
 */
typedef void (*signal_handler)(int);

signal_handler signal(int sig, signal_handler handler) {
    (void)sig;
    (void)handler;
    return (signal_handler)-1; /* SIG_ERR */
}

int raise(int sig) {
    (void)sig;
    return -1;
}

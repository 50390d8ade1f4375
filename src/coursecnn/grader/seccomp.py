"""No new processes: a seccomp filter the worker installs on itself before any student code runs.

The filter lets threads be made (NumPy and PyTorch start them) but refuses every way of making a
new process (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``; ``clone3`` reports "not
implemented", so the C library falls back to ``clone``, which is checked), and every way of
raising a resource limit (``setrlimit``, ``prlimit64``). Once installed it cannot be removed, and
it is inherited by every thread. Standard library only (ctypes): the worker imports it where
``coursecnn`` is hidden.
"""

import ctypes
import errno
import platform
import struct

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_LD_W_ABS, _JEQ_K, _JSET_K, _RET_K = 0x20, 0x15, 0x45, 0x06
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_CLONE_THREAD = 0x00010000

# arch -> (AUDIT_ARCH value, {syscall: number}) for the calls the filter looks at
_ARCHES = {
    "x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "setrlimit": 160, "prlimit64": 302,
                            "clone3": 435}),
    "aarch64": (0xC00000B7, {"clone": 220, "setrlimit": 164, "prlimit64": 261, "clone3": 435}),
}


def _insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def program():
    """The filter as BPF instructions (bytes), or None on an architecture it does not know."""
    arch = _ARCHES.get(platform.machine())
    if arch is None:
        return None
    audit, nr = arch
    deny = _SECCOMP_RET_ERRNO | errno.EPERM
    nosys = _SECCOMP_RET_ERRNO | errno.ENOSYS
    out = [
        _insn(_LD_W_ABS, 4),                       # seccomp_data.arch
        _insn(_JEQ_K, audit, 1, 0),
        _insn(_RET_K, deny),                       # another ABI (x32, 32-bit): refuse it all
        _insn(_LD_W_ABS, 0),                       # seccomp_data.nr
    ]
    for name in ("fork", "vfork", "setrlimit", "prlimit64"):
        if name in nr:
            out += [_insn(_JEQ_K, nr[name], 0, 1), _insn(_RET_K, deny)]
    out += [_insn(_JEQ_K, nr["clone3"], 0, 1), _insn(_RET_K, nosys)]
    # clone(flags, ...): a thread shares the process (CLONE_THREAD set); anything else is a process.
    out += [
        _insn(_JEQ_K, nr["clone"], 0, 4),
        _insn(_LD_W_ABS, 16),                      # seccomp_data.args[0], low 32 bits
        _insn(_JSET_K, _CLONE_THREAD, 1, 0),
        _insn(_RET_K, deny),
        _insn(_RET_K, _SECCOMP_RET_ALLOW),
        _insn(_RET_K, _SECCOMP_RET_ALLOW),
    ]
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install():
    """Install the filter on the calling process. Returns None, or why it could not."""
    prog = program()
    if prog is None:
        return f"no seccomp filter for {platform.machine()}"
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(prog)
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"prctl(NO_NEW_PRIVS) failed: {errno.errorcode.get(ctypes.get_errno(), '?')}"
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return f"prctl(SECCOMP) failed: {errno.errorcode.get(ctypes.get_errno(), '?')}"
    return None

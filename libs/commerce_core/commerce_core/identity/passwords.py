"""How every project stores passwords (PASSWORD_HASHERS in the shared settings):
Argon2id first, with the older hashes still readable and upgraded at the next
successful login (Django rehashes a password whose hasher is not the first of
PASSWORD_HASHERS, or whose parameters changed).

Parameters, and why: 36 MiB of memory, 2 passes, one lane. OWASP's password storage
guidance rates Argon2id at 19 MiB and 2 passes as equal to PBKDF2-HMAC-SHA256 at
600,000 iterations, and its other equal settings (46 MiB x 1, 12 MiB x 3, 9 MiB x 4)
keep memory times passes about the same. Django's PBKDF2 default, what the platform
used before, is 1,000,000 iterations: 1.67 times OWASP's figure. 36 MiB x 2 is 1.89
times it (`STRENGTH_OVER_OWASP`, checked against Django's iterations by a test):
stronger than before, and stronger still against GPUs, whose advantage memory
hardness takes away. It costs about 50 ms of CPU per hash on the 2-core development
machine and 80 ms on the slowest one, against 170-550 ms for PBKDF2, and Argon2
releases the GIL while it runs. One lane: extra lanes would only add threads to a
server already running one request per thread. (3 passes of 32 MiB, as before,
cost 110 ms there for 2.5 times OWASP's figure: strength no setting asked for.)

The 36 MiB are allocated afresh for every hash. glibc's malloc serves an
allocation that large with its own mmap() and unmaps it on free(), so each hash
faulted in 9,216 new pages that the kernel zeroed first: 16-26 ms of system CPU
per hash on top of Argon2's own work (measured with getrusage). The first hash
sets malloc to keep such blocks (`_reuse_hash_memory`), and later hashes reuse
memory already mapped: no page faults, no system time, the same hash. The price is
memory the process keeps: 36 MiB per thread that has hashed.
"""

import ctypes
import functools
import sys

from django.contrib.auth import hashers

#: glibc's mallopt() parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: OWASP's Argon2id setting rated equal to PBKDF2-HMAC-SHA256 at 600,000 iterations.
OWASP_MEMORY_KIB, OWASP_PASSES, OWASP_PBKDF2_ITERATIONS = 19 * 1024, 2, 600_000


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    # Same algorithm name as Django's, so the stored hashes stay Django's format and
    # a change of parameters here upgrades each hash at its owner's next login.
    time_cost = 2
    memory_cost = 36 * 1024  # KiB
    parallelism = 1

    #: Memory times passes over OWASP's setting: to compare with PBKDF2's iterations over its 600,000.
    STRENGTH_OVER_OWASP = (memory_cost * time_cost) / (OWASP_MEMORY_KIB * OWASP_PASSES)

    def encode(self, password, salt):
        _reuse_hash_memory()
        return super().encode(password, salt)

    def verify(self, password, encoded):
        _reuse_hash_memory()
        return super().verify(password, encoded)


@functools.cache
def _reuse_hash_memory() -> None:
    """Blocks up to 64 MiB come from malloc's heap rather than an mmap() of their
    own, and up to 256 MiB free at the heap's top stay mapped, so a hash's memory
    is mapped once per thread and reused (see the module docstring). Only on glibc:
    elsewhere nothing changes (musl's mallopt does nothing, others have none)."""
    if not sys.platform.startswith("linux"):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the process's own C library
    if mallopt is None:
        return
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024)
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024)

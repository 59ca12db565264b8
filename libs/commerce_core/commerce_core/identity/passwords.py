"""How every project stores passwords (PASSWORD_HASHERS in the shared settings):
Argon2id first, with the older hashes still readable and upgraded at the next
successful login (Django rehashes a password whose hasher is not the first of
PASSWORD_HASHERS, or whose parameters changed).

Parameters, and why: 32 MiB of memory, 3 passes, one lane. OWASP's password storage
guidance rates Argon2id at 19 MiB and 2 passes as equal to PBKDF2-HMAC-SHA256 at
600,000 iterations; Django's PBKDF2 default (what the platform used before) is
1,000,000 iterations, 1.7 times that. Memory-hard cost grows with memory times
passes, and 32 MiB x 3 is 2.5 times the OWASP figure: stronger than before, and
stronger still against GPUs, whose advantage memory hardness takes away. It costs
about 60-75 ms of CPU per hash on the 2-core development machine, against 250-500 ms
for PBKDF2, and Argon2 releases the GIL while it runs. One lane: extra lanes would
only add threads to a server already running one request per thread.

The 32 MiB are allocated afresh for every hash. glibc's malloc serves an
allocation that large with its own mmap() and unmaps it on free(), so each hash
faulted in 8,192 new pages that the kernel zeroed first: 16-26 ms of system CPU
per hash on top of Argon2's own 60-75 ms (measured with getrusage). The first hash
sets malloc to keep such blocks (`_reuse_hash_memory`), and later hashes reuse
memory already mapped: no page faults, no system time, the same hash. The price is
memory the process keeps: 32 MiB per thread that has hashed.
"""

import ctypes
import functools
import sys

from django.contrib.auth import hashers

#: glibc's mallopt() parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    # Same algorithm name as Django's, so the stored hashes stay Django's format and
    # a change of parameters here upgrades each hash at its owner's next login.
    time_cost = 3
    memory_cost = 32 * 1024  # KiB
    parallelism = 1

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

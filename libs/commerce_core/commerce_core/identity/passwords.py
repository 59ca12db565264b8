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
about 75 ms of CPU per hash on the 2-core development machine, against 250-500 ms
for PBKDF2, and Argon2 releases the GIL while it runs. One lane: extra lanes would
only add threads to a server already running one request per thread.
"""

from django.contrib.auth import hashers


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    # Same algorithm name as Django's, so the stored hashes stay Django's format and
    # a change of parameters here upgrades each hash at its owner's next login.
    time_cost = 3
    memory_cost = 32 * 1024  # KiB
    parallelism = 1

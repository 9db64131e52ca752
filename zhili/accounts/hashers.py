"""Password hashing: Argon2id with OWASP's recommended parameters (R-10.3-crypto).

Django's default Argon2 cost uses 100 MiB of memory per hash, so a handful of simultaneous
sign-ins would take most of a small server's memory. OWASP's Password Storage Cheat Sheet
recommends m = 19 MiB, t = 2, p = 1 as a minimum for Argon2id; that is what Zhili uses.
Existing hashes with other parameters are upgraded at the user's next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ZhiliArgon2PasswordHasher(Argon2PasswordHasher):
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1

# Access tests, part 1 (denials, admin): see t_*.sh listed here.

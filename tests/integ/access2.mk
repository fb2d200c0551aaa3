# Access tests, part 2 (bad input, tokens, pipelines, files): see t_*.sh listed here.

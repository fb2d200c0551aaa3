# Access tests (denials, bad input, tokens, pipelines, files): see t_*.sh listed here.

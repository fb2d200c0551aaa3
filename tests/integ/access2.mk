# Access tests, part 2 (bad input, tokens, pipelines, files): see t_*.sh listed here.
# t_badinput.sh and t_files.sh send raw requests with tests/integ/wireprobe (robust.mk).
ACCESS2_TESTS = \
	tests/integ/t_badinput.sh \
	tests/integ/t_tokens.sh \
	tests/integ/t_pipelines.sh \
	tests/integ/t_files.sh
TESTS += $(ACCESS2_TESTS)
EXTRA_DIST += $(ACCESS2_TESTS)
# t_enforce.sh: repo directories' POSIX ACLs follow the bindings; real reads and writes as
# IdP users (the built NSS module in a mount namespace), drift repairs, symlinks, delete,
# deactivation, idgated stopped.
TESTS += tests/integ/t_enforce.sh
EXTRA_DIST += tests/integ/t_enforce.sh

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
# t_enforce_busy.sh: requests answered during a pass over 200,000 files, a small change
# meanwhile on disk within 1 s.
# t_enforce_revoke.sh: revocation holds against a writer who prepared for it (a planted hard
# link, a process inside a repo being deleted, set-id and sticky bits on its directories).
TESTS += tests/integ/t_enforce.sh tests/integ/t_enforce_busy.sh tests/integ/t_enforce_revoke.sh
EXTRA_DIST += tests/integ/t_enforce.sh tests/integ/t_enforce_busy.sh \
	tests/integ/t_enforce_revoke.sh

# Access tests, part 1 (denials, admin): see t_*.sh listed here.
# t_denials.sh: every command refused to a user, a robot and a uid with no identity.
# t_admin.sh: auth deactivate/activate, custom roles, -o json, help, unknown commands, --as.
ACCESS_TESTS = \
	tests/integ/t_denials.sh \
	tests/integ/t_admin.sh
TESTS += $(ACCESS_TESTS)
EXTRA_DIST += $(ACCESS_TESTS)

/* The login-name rules (src/idmap/idmap.c): which IdP usernames fold into which POSIX names,
 * and that an e-mail address folds only for the domains [idmap] fold_domains lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "idmap/idmap.h"

/* The name for username, or "!" and the error code when refused. */
static int
name_of(enum idg_idmap_rule rule, const char *domains, const char *username, char *out,
    char *why)
{
	return idg_idmap_login_name(rule, 32, domains, username, out, IDG_POSIX_NAME_MAX + 1,
	    why, 512);
}

static void
plain_usernames_are_lowercased_under_every_rule_but_email_local(void **state)
{
	char out[64], why[512];

	(void)state;
	assert_int_equal(name_of(IDG_IDMAP_AUTO, NULL, "Dave.Smith", out, why), 0);
	assert_string_equal(out, "dave.smith");
	assert_int_equal(name_of(IDG_IDMAP_USERNAME, "", "alice", out, why), 0);
	assert_string_equal(out, "alice");
	assert_int_equal(name_of(IDG_IDMAP_EMAIL_LOCAL, "example.com", "alice", out, why),
	    IDG_ERR_INVAL);
}

static void
an_address_folds_only_for_a_listed_domain(void **state)
{
	char out[64] = "untouched", why[512];

	(void)state;
	/* No domain listed: no e-mail address folds, under auto or email_local. */
	assert_int_equal(name_of(IDG_IDMAP_AUTO, NULL, "alice@example.com", out, why),
	    IDG_ERR_DENIED);
	assert_string_equal(out, "untouched");
	assert_non_null(strstr(why, "fold_domains"));
	assert_int_equal(name_of(IDG_IDMAP_EMAIL_LOCAL, "", "alice@example.com", out, why),
	    IDG_ERR_DENIED);
	/* Listed (any case, spaces or commas): it folds. */
	assert_int_equal(name_of(IDG_IDMAP_AUTO, "example.org, example.com", "alice@example.com",
	    out, why), 0);
	assert_string_equal(out, "alice");
	assert_int_equal(name_of(IDG_IDMAP_EMAIL_LOCAL, "example.com", "Dave.Smith@Example.COM",
	    out, why), 0);
	assert_string_equal(out, "dave.smith");
	/* The attack: another domain's "Erin" is not erin; nor is a subdomain or a suffix. */
	strcpy(out, "untouched");
	assert_int_equal(name_of(IDG_IDMAP_AUTO, "example.com", "Erin@attacker.example", out,
	    why), IDG_ERR_DENIED);
	assert_string_equal(out, "untouched");
	assert_non_null(strstr(why, "Erin@attacker.example"));
	assert_int_equal(name_of(IDG_IDMAP_AUTO, "example.com", "erin@evil.example.com", out,
	    why), IDG_ERR_DENIED);
	assert_int_equal(name_of(IDG_IDMAP_AUTO, "example.com", "erin@notexample.com", out, why),
	    IDG_ERR_DENIED);
	assert_int_equal(name_of(IDG_IDMAP_AUTO, "example.com", "erin@example.com@evil", out,
	    why), IDG_ERR_DENIED);
	assert_int_equal(name_of(IDG_IDMAP_AUTO, "example.com example", "erin@example", out,
	    why), 0);
	/* The username rule never cuts at '@': such a username has no name at all. */
	assert_int_equal(name_of(IDG_IDMAP_USERNAME, "example.com", "alice@example.com", out,
	    why), IDG_ERR_INVAL);
}

static void
domain_lists_are_read_word_by_word(void **state)
{
	(void)state;
	assert_true(idg_idmap_domain_listed("a.example, b.example", "B.EXAMPLE", 9));
	assert_true(idg_idmap_domain_listed("\ta.example\t", "a.example", 9));
	assert_false(idg_idmap_domain_listed("a.example", "a.exampl", 8));
	assert_false(idg_idmap_domain_listed("a.example", "xa.example", 10));
	assert_false(idg_idmap_domain_listed(NULL, "a.example", 9));
	assert_false(idg_idmap_domain_listed("", "", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_usernames_are_lowercased_under_every_rule_but_email_local),
		cmocka_unit_test(an_address_folds_only_for_a_listed_domain),
		cmocka_unit_test(domain_lists_are_read_word_by_word),
	};

	return cmocka_run_group_tests_name("idmap/idmap", tests, NULL, NULL);
}

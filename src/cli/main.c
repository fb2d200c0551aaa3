/* idgatectl: manage idgate's roles, projects, repos, groups and robots through idgated.
 * See idgatectl(1). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define DEFAULT_SOCKET IDG_RUNDIR "/api.sock"

static const struct {
	const struct command *cmds;
	const size_t *n;
	const char *title;
} groups[] = {
	{ cmds_auth, &ncmds_auth, "Bindings and identity (pachctl habits)" },
	{ cmds_objects, &ncmds_objects, "Projects, repos, pipelines and files" },
	{ cmds_rbac, &ncmds_rbac, "Roles (det habits; a workspace is a project)" },
	{ cmds_group, &ncmds_group, "Groups ('user-group' is an alias)" },
	{ cmds_user, &ncmds_user, "IdP users on this host (POSIX accounts)" },
	{ cmds_login, &ncmds_login, "Identity provider (root only)" },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: idgatectl [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
	    "\n"
	    "Manage idgate's role engine through idgated: who may do what on the cluster, its\n"
	    "projects and their repos. Every command is itself authorized by the role engine:\n"
	    "root (uid 0) is the built-in clusterAdmin; a robot authenticates with a token.\n");
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		fprintf(f, "\n%s:\n", groups[g].title);
		for (size_t i = 0; i < *groups[g].n; i++) {
			const struct command *c = &groups[g].cmds[i];
			char words[64];

			snprintf(words, sizeof(words), "%s %s", c->words[0], c->words[1] ? c->words[1] : "");
			fprintf(f, "  %-28s %s\n", words, c->summary);
		}
	}
	fprintf(f,
	    "\nOther:\n"
	    "  %-28s %s\n  %-28s %s\n"
	    "\nGlobal options (before or after the command):\n"
	    "  -o, --output FORMAT   text (default) or json, for every command that prints\n"
	    "      --socket PATH     idgated's api.sock (default $IDGATE_SOCKET or " DEFAULT_SOCKET ")\n"
	    "      --token TOKEN     authenticate as a robot (default $IDGATE_TOKEN)\n"
	    "      --as SUBJECT      root only: act as SUBJECT, e.g. to try a user's view\n"
	    "      --timeout SECONDS give up on idgated after this long (default 30)\n"
	    "  -h, --help            help; 'idgatectl COMMAND --help' for one command\n"
	    "  -V, --version         print the version\n"
	    "\nExit status: 0 success or allowed; 1 denied; 2 usage or input error; 3 idgated\n"
	    "unreachable or failed.\n"
	    "\nSee idgatectl(1), idgated(8), idgate.conf(5).\n",
	    "ping", "check that idgated answers; print its version",
	    "help COMMAND", "the help page of one command");
}

static const struct command *
find(const char *w0, const char *w1)
{
	if (strcmp(w0, "user-group") == 0)
		w0 = "group";
	if (strcmp(w0, "user") == 0 && w1 && strcmp(w1, "del") == 0)
		w1 = "delete";
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < *groups[g].n; i++) {
			const struct command *c = &groups[g].cmds[i];

			if (strcmp(c->words[0], w0) == 0 && w1 && c->words[1] && strcmp(c->words[1], w1) == 0)
				return c;
		}
	return NULL;
}

static bool
known_word(const char *w0)
{
	if (strcmp(w0, "user-group") == 0)
		return true;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < *groups[g].n; i++)
			if (strcmp(groups[g].cmds[i].words[0], w0) == 0)
				return true;
	return false;
}

static void
list_subcommands(const char *w0, FILE *f)
{
	fprintf(f, "'%s' takes one of:\n", w0);
	if (strcmp(w0, "user-group") == 0)
		w0 = "group";
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < *groups[g].n; i++) {
			const struct command *c = &groups[g].cmds[i];

			if (strcmp(c->words[0], w0) == 0)
				fprintf(f, "  idgatectl %-40s %s\n", c->synopsis, c->summary);
		}
}

static const struct command cmd_ping = {
	{ "ping", NULL }, NULL, "ping", "Check that idgated answers; print its version.",
	"\nConnects to idgated's api.sock and asks for its version. Any caller may ping.\n"
	"Exit 0 when it answers, 3 when it does not.\n" };

static int
ping(struct cli *c)
{
	struct req r;
	struct reply rep;
	int rc;

	req_init(&r, IDG_OP_PING);
	rc = call(c, &r, &rep);
	if (rc == EXIT_OK) {
		if (c->json)
			print_json(rep.json);
		else
			printf("idgated %s is running (api %.0f)\n", jstr(rep.json, "version"),
			    jnum(rep.json, "api"));
	} else if (rep.error[0]) {
		fprintf(stderr, "%s\n", rep.error);
	}
	reply_free(&rep);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli c = { .timeout_ms = 30000 };
	const struct command *cmd;
	char prog[128];
	int i = 1;

	c.socket = getenv("IDGATE_SOCKET");
	if (c.socket == NULL || *c.socket == '\0')
		c.socket = DEFAULT_SOCKET;
	c.token = getenv("IDGATE_TOKEN");
	if (c.token && *c.token == '\0')
		c.token = NULL;
	/* Global options before the command; the command's parser takes the rest. */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("idgatectl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "idgatectl: unknown option or missing argument: %s\n", a);
			return EXIT_USAGE;
		}
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (strcmp(argv[i + 1], "json") != 0 && strcmp(argv[i + 1], "text") != 0) {
				fprintf(stderr, "idgatectl: --output must be text or json\n");
				return EXIT_USAGE;
			}
			c.json = strcmp(argv[i + 1], "json") == 0;
		} else if (strcmp(a, "--socket") == 0) {
			c.socket = argv[i + 1];
		} else if (strcmp(a, "--token") == 0) {
			c.token = argv[i + 1];
		} else if (strcmp(a, "--as") == 0) {
			c.as = argv[i + 1];
		} else if (strcmp(a, "--timeout") == 0) {
			int v = atoi(argv[i + 1]);

			if (v < 1 || v > 86400) {
				fprintf(stderr, "idgatectl: --timeout must be 1 to 86400 seconds\n");
				return EXIT_USAGE;
			}
			c.timeout_ms = v * 1000;
		} else {
			fprintf(stderr, "idgatectl: unknown option %s\nTry 'idgatectl --help'.\n", a);
			return EXIT_USAGE;
		}
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "ping") == 0 || strcmp(argv[i], "version") == 0) {
		int rc, j;

		/* Global options may follow, as for every command. */
		c.prog = "idgatectl ping";
		argv[i] = prog;
		snprintf(prog, sizeof(prog), "idgatectl ping");
		if ((j = parse_opts(&c, &cmd_ping, argc - i, argv + i, NULL, &rc)) < 0)
			return rc;
		if (j != argc - i)
			return usage_error(&c, "unexpected argument '%s'", argv[i + j]);
		return ping(&c);
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i + 1], "ping") == 0) {
			command_help(&cmd_ping, stdout);
			return EXIT_OK;
		}
		if ((cmd = find(argv[i + 1], i + 2 < argc ? argv[i + 2] : NULL)) != NULL) {
			command_help(cmd, stdout);
			return EXIT_OK;
		}
		if (known_word(argv[i + 1])) {
			list_subcommands(argv[i + 1], stdout);
			return EXIT_OK;
		}
		fprintf(stderr, "idgatectl: no command '%s'\n", argv[i + 1]);
		return EXIT_USAGE;
	}
	if (!known_word(argv[i])) {
		fprintf(stderr, "idgatectl: unknown command '%s'\nTry 'idgatectl --help'.\n", argv[i]);
		return EXIT_USAGE;
	}
	if (i + 1 >= argc || (cmd = find(argv[i], argv[i + 1])) == NULL) {
		if (i + 1 < argc && strcmp(argv[i + 1], "--help") != 0 && strcmp(argv[i + 1], "-h") != 0)
			fprintf(stderr, "idgatectl: unknown command '%s %s'\n", argv[i], argv[i + 1]);
		list_subcommands(argv[i], i + 1 < argc && argv[i + 1][0] == '-' ? stdout : stderr);
		return i + 1 < argc && argv[i + 1][0] == '-' ? EXIT_OK : EXIT_USAGE;
	}
	snprintf(prog, sizeof(prog), "idgatectl %s %s", cmd->words[0], cmd->words[1]);
	c.prog = prog;
	/* The command sees its own name as argv[0] and its operands after it. */
	argv[i + 1] = prog;
	return cmd->fn(&c, argc - (i + 1), argv + i + 1);
}

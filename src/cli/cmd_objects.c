/* idgatectl create|delete|list project|repo|pipeline, update pipeline, and put|get|list|delete
 * file: the pachctl habits for objects. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static int
quiet_call(struct cli *c, struct req *r)
{
	struct reply rep;
	int rc = call(c, r, &rep);

	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	reply_free(&rep);
	return rc;
}

static int
create_named(struct cli *c, const struct command *cmd, int argc, char **argv, enum idg_op op)
{
	const char *desc = NULL;
	const struct cmdopt o[] = { { "description", 'd', true, &desc, NULL, NULL, NULL }, { NULL } };
	struct req r;
	int rc, i = parse_opts(c, cmd, argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one %s", op == IDG_OP_PROJECT_CREATE ? "project" : "repo");
	req_init(&r, op);
	req_str(&r, IDG_T_NAME, argv[i]);
	if (desc)
		req_str(&r, IDG_T_DESC, desc);
	return quiet_call(c, &r);
}

static int
delete_named(struct cli *c, const struct command *cmd, int argc, char **argv, enum idg_op op)
{
	struct req r;
	int rc, i = parse_opts(c, cmd, argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "usage: idgatectl %s", cmd->synopsis);
	req_init(&r, op);
	req_str(&r, IDG_T_NAME, argv[i]);
	return quiet_call(c, &r);
}

static int
cmd_create_project(struct cli *c, int argc, char **argv)
{
	return create_named(c, &cmds_objects[0], argc, argv, IDG_OP_PROJECT_CREATE);
}

static int
cmd_create_repo(struct cli *c, int argc, char **argv)
{
	return create_named(c, &cmds_objects[1], argc, argv, IDG_OP_REPO_CREATE);
}

static int
pipeline_write(struct cli *c, const struct command *cmd, int argc, char **argv, enum idg_op op)
{
	const char **inputs = NULL, *output = NULL;
	size_t nin = 0;
	const struct cmdopt o[] = {
		{ "input", 'i', true, NULL, NULL, &inputs, &nin },
		{ "output-repo", 0, true, &output, NULL, NULL, NULL },
		{ NULL },
	};
	struct req r;
	int rc, i = parse_opts(c, cmd, argc, argv, o, &rc);

	if (i < 0)
		goto out;
	if (argc - i != 1) {
		rc = usage_error(c, "name one pipeline");
		goto out;
	}
	if (nin == 0) {
		rc = usage_error(c, "give at least one --input REPO");
		goto out;
	}
	req_init(&r, op);
	req_str(&r, IDG_T_NAME, argv[i]);
	for (size_t k = 0; k < nin; k++)
		req_str(&r, IDG_T_INPUT, inputs[k]);
	if (output)
		req_str(&r, IDG_T_OUTPUT, output);
	rc = quiet_call(c, &r);
out:
	free(inputs);
	return rc;
}

static int
cmd_create_pipeline(struct cli *c, int argc, char **argv)
{
	return pipeline_write(c, &cmds_objects[2], argc, argv, IDG_OP_PIPELINE_CREATE);
}

static int
cmd_update_pipeline(struct cli *c, int argc, char **argv)
{
	return pipeline_write(c, &cmds_objects[3], argc, argv, IDG_OP_PIPELINE_UPDATE);
}

static int
cmd_delete_project(struct cli *c, int argc, char **argv)
{
	return delete_named(c, &cmds_objects[4], argc, argv, IDG_OP_PROJECT_DELETE);
}

static int
cmd_delete_repo(struct cli *c, int argc, char **argv)
{
	return delete_named(c, &cmds_objects[5], argc, argv, IDG_OP_REPO_DELETE);
}

static int
cmd_delete_pipeline(struct cli *c, int argc, char **argv)
{
	return delete_named(c, &cmds_objects[6], argc, argv, IDG_OP_PIPELINE_DELETE);
}

static const char *
access_level(const cJSON *o, char *buf, size_t len)
{
	jlist(cJSON_GetObjectItemCaseSensitive(o, "access_level"), ",", "", "", buf, len);
	return buf[0] ? buf : "none";
}

static int
cmd_list_project(struct cli *c, int argc, char **argv)
{
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_objects[7], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_PROJECT_LIST);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		struct table *t = table_new(5, "PROJECT", "CREATED", "REPOS", "ACCESS_LEVEL", "DESCRIPTION");
		const cJSON *p;

		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(rep.json, "projects")) {
			char when[32], n[16], acc[1024];

			snprintf(n, sizeof(n), "%.0f", jnum(p, "repos"));
			table_row(t, jstr(p, "name"), jtime(jnum(p, "created"), when, sizeof(when)), n,
			    access_level(p, acc, sizeof(acc)), jstr(p, "description"));
		}
		table_print(t);
		table_free(t);
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_list_repo(struct cli *c, int argc, char **argv)
{
	const char *project = NULL;
	bool all = false;
	const struct cmdopt o[] = {
		{ "project", 'p', true, &project, NULL, NULL, NULL },
		{ "all-projects", 'A', false, NULL, &all, NULL, NULL },
		{ NULL },
	};
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_objects[8], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_REPO_LIST);
	if (project && !all)
		req_str(&r, IDG_T_RNAME, project);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		struct table *t = table_new(5, "PROJECT", "NAME", "CREATED", "ACCESS_LEVEL", "DESCRIPTION");
		const cJSON *p;

		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(rep.json, "repos")) {
			char when[32], acc[1024];

			table_row(t, jstr(p, "project"), jstr(p, "name"),
			    jtime(jnum(p, "created"), when, sizeof(when)), access_level(p, acc, sizeof(acc)),
			    jstr(p, "description"));
		}
		table_print(t);
		table_free(t);
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_list_pipeline(struct cli *c, int argc, char **argv)
{
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_objects[9], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_PIPELINE_LIST);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		struct table *t = table_new(4, "PIPELINE", "INPUTS", "OUTPUT", "CREATED");
		const cJSON *p;

		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(rep.json, "pipelines")) {
			char when[32], in[4096];

			table_row(t, jstr(p, "name"), jlist(cJSON_GetObjectItemCaseSensitive(p, "inputs"), ",",
			    "", "", in, sizeof(in)), jstr(p, "output"),
			    jtime(jnum(p, "created"), when, sizeof(when)));
		}
		table_print(t);
		table_free(t);
	}
	reply_free(&rep);
	return rc;
}

/* "REPO:PATH" (REPO may be PROJECT/REPO) into the request. */
static int
file_arg(struct cli *c, struct req *r, const char *arg, bool need_path)
{
	const char *colon = strchr(arg, ':');
	char repo[512];

	if (colon == NULL) {
		if (need_path)
			return usage_error(c, "name a file as REPO:PATH, e.g. testinput:/data.csv");
		req_str(r, IDG_T_RNAME, arg);
		return EXIT_OK;
	}
	if ((size_t)(colon - arg) >= sizeof(repo))
		return usage_error(c, "repo name too long");
	memcpy(repo, arg, (size_t)(colon - arg));
	repo[colon - arg] = '\0';
	req_str(r, IDG_T_RNAME, repo);
	req_str(r, IDG_T_PATH, colon + 1);
	return EXIT_OK;
}

/* Standard input into an anonymous memory file, so idgated can copy it like any file. */
static int
stdin_file(struct cli *c, size_t max)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;
	int fd = memfd_create("idgatectl-put", MFD_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "idgatectl: memfd_create: %s\n", strerror(errno));
		return -1;
	}
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "idgatectl: reading standard input: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
		if ((total += (size_t)n) > max) {
			usage_error(c, "standard input is larger than %zu bytes", max);
			close(fd);
			return -1;
		}
		if (write(fd, buf, (size_t)n) != n) {
			fprintf(stderr, "idgatectl: buffering standard input: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int
cmd_put_file(struct cli *c, int argc, char **argv)
{
	const char *file = NULL;
	const struct cmdopt o[] = { { "file", 'f', true, &file, NULL, NULL, NULL }, { NULL } };
	struct req r;
	int rc, fd, i = parse_opts(c, &cmds_objects[10], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one destination, REPO:PATH");
	/* The file is opened here, with the caller's own rights, and handed to idgated. */
	if (file && strcmp(file, "-") != 0) {
		struct stat st;

		if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
			fprintf(stderr, "idgatectl: %s: %s\n", file, strerror(errno));
			return EXIT_USAGE;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return usage_error(c, "%s is not a regular file", file);
		}
	} else if ((fd = stdin_file(c, (size_t)1 << 30)) < 0) {
		return EXIT_USAGE;
	}
	req_init(&r, IDG_OP_FILE_PUT);
	if ((rc = file_arg(c, &r, argv[i], true)) != EXIT_OK) {
		idg_msg_free(&r.m);
		close(fd);
		return rc;
	}
	r.fd = fd;
	return quiet_call(c, &r);
}

static int
cmd_get_file(struct cli *c, int argc, char **argv)
{
	const char *file = NULL;
	const struct cmdopt o[] = { { "file", 'f', true, &file, NULL, NULL, NULL }, { NULL } };
	struct req r;
	struct reply rep;
	int rc, out = 1, i = parse_opts(c, &cmds_objects[11], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one file, REPO:PATH");
	req_init(&r, IDG_OP_FILE_GET);
	if ((rc = file_arg(c, &r, argv[i], true)) != EXIT_OK) {
		idg_msg_free(&r.m);
		return rc;
	}
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (rep.fd < 0) {
		fprintf(stderr, "idgatectl: idgated passed no file\n");
		rc = EXIT_FAIL;
	} else {
		char buf[65536];
		ssize_t n;

		if (file && (out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
			fprintf(stderr, "idgatectl: %s: %s\n", file, strerror(errno));
			rc = EXIT_USAGE;
		}
		while (rc == EXIT_OK && (n = read(rep.fd, buf, sizeof(buf))) > 0) {
			if (write(out, buf, (size_t)n) != n) {
				fprintf(stderr, "idgatectl: writing: %s\n", strerror(errno));
				rc = EXIT_FAIL;
			}
		}
		if (file && out >= 0)
			close(out);
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_list_file(struct cli *c, int argc, char **argv)
{
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_objects[12], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one repo, REPO or REPO:DIR");
	req_init(&r, IDG_OP_FILE_LIST);
	if ((rc = file_arg(c, &r, argv[i], false)) != EXIT_OK) {
		idg_msg_free(&r.m);
		return rc;
	}
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		struct table *t = table_new(4, "NAME", "TYPE", "SIZE", "MODIFIED");
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rep.json, "entries")) {
			char size[32], when[32];

			snprintf(size, sizeof(size), "%.0f", jnum(e, "size"));
			table_row(t, jstr(e, "name"), jstr(e, "type"), size,
			    jtime(jnum(e, "modified"), when, sizeof(when)));
		}
		table_print(t);
		table_free(t);
		if (jbool(rep.json, "truncated"))
			printf("(listing truncated)\n");
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_delete_file(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_objects[13], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one file, REPO:PATH");
	req_init(&r, IDG_OP_FILE_DELETE);
	if ((rc = file_arg(c, &r, argv[i], true)) != EXIT_OK) {
		idg_msg_free(&r.m);
		return rc;
	}
	return quiet_call(c, &r);
}

const struct command cmds_objects[] = {
	{ { "create", "project" }, cmd_create_project, "create project NAME [-d DESCRIPTION]",
	  "Create a project; you become its projectOwner.",
	  "\nNeeds PROJECT_CREATE on the cluster (allClusterUsers hold projectCreator by\n"
	  "default). NAME: letters, digits, '_' and '-', at most 51 characters.\n" },
	{ { "create", "repo" }, cmd_create_repo, "create repo [PROJECT/]NAME [-d DESCRIPTION]",
	  "Create a repo and its data directory; you become its repoOwner.",
	  "\nNeeds PROJECT_CREATE_REPO on the project. A bare NAME is in project 'default'.\n"
	  "The data lives in DATA_ROOT/PROJECT/NAME (idgate.conf(5), [data] root).\n" },
	{ { "create", "pipeline" }, cmd_create_pipeline,
	  "create pipeline [PROJECT/]NAME --input REPO [--input REPO...] [--output-repo REPO]",
	  "Create a pipeline: pipeline:PROJECT/NAME reads its inputs and writes its output.",
	  "\nNeeds REPO_READ and REPO_ADD_PIPELINE_READER on every input, and REPO_WRITE and\n"
	  "REPO_ADD_PIPELINE_WRITER on an existing output (default output: the repo\n"
	  "PROJECT/NAME). An output that does not exist is created (PROJECT_CREATE_REPO) and\n"
	  "you become its repoOwner. The pipeline then holds repoReader on each input and\n"
	  "repoWriter on the output; those bindings are never set by hand.\n\n"
	  "Options:\n"
	  "  -i, --input REPO        an input repo (repeat for several)\n"
	  "      --output-repo REPO  the output repo (default PROJECT/NAME)\n" },
	{ { "update", "pipeline" }, cmd_update_pipeline,
	  "update pipeline [PROJECT/]NAME --input REPO [--input REPO...] [--output-repo REPO]",
	  "Replace a pipeline's inputs (and output); dropped inputs lose its binding.",
	  "\nAs create pipeline; dropping an input also needs REPO_REMOVE_PIPELINE_READER on it.\n" },
	{ { "delete", "project" }, cmd_delete_project, "delete project NAME",
	  "Delete an empty project.",
	  "\nNeeds PROJECT_DELETE and PROJECT_MODIFY_BINDINGS. A project with repos or pipelines\n"
	  "is refused: delete those first. The default project cannot be deleted.\n" },
	{ { "delete", "repo" }, cmd_delete_repo, "delete repo [PROJECT/]NAME",
	  "Delete a repo and its bindings; its data directory is moved aside, not destroyed.",
	  "\nNeeds REPO_DELETE. A repo a pipeline uses is refused. The data goes to\n"
	  "DATA_ROOT/.deleted/PROJECT.NAME.TIMESTAMP for an administrator to remove.\n" },
	{ { "delete", "pipeline" }, cmd_delete_pipeline, "delete pipeline [PROJECT/]NAME",
	  "Delete a pipeline and its bindings; its output repo stays.",
	  "\nNeeds REPO_DELETE on the output repo.\n" },
	{ { "list", "project" }, cmd_list_project, "list project",
	  "List projects with your roles on each (ACCESS_LEVEL).", "" },
	{ { "list", "repo" }, cmd_list_repo, "list repo [--project P]",
	  "List repos with your roles on each (ACCESS_LEVEL; 'none' where you have none).",
	  "\nOptions:\n  -p, --project P       only repos of project P\n"
	  "  -A, --all-projects    every project (the default)\n" },
	{ { "list", "pipeline" }, cmd_list_pipeline, "list pipeline",
	  "List pipelines with their inputs and output.", "" },
	{ { "put", "file" }, cmd_put_file, "put file REPO:PATH [-f LOCAL-FILE]",
	  "Write a file into a repo (from LOCAL-FILE or standard input).",
	  "\nNeeds REPO_WRITE. The local file is opened with your own rights and handed to\n"
	  "idgated, which copies it in and replaces PATH atomically. Directories in PATH are\n"
	  "created. Limits: [data] max_put_size; local filesystems only (not NFS or FUSE).\n\n"
	  "Options:\n  -f, --file LOCAL-FILE read from this file ('-': standard input)\n\n"
	  "Example:\n  idgatectl put file testinput:/data.csv -f data.csv\n" },
	{ { "get", "file" }, cmd_get_file, "get file REPO:PATH [-f LOCAL-FILE]",
	  "Read a file from a repo to standard output (or LOCAL-FILE).",
	  "\nNeeds REPO_READ.\n\nOptions:\n  -f, --file LOCAL-FILE write here instead of standard output\n" },
	{ { "list", "file" }, cmd_list_file, "list file REPO[:DIR]",
	  "List the files in a repo directory.", "\nNeeds REPO_LIST_FILE.\n" },
	{ { "delete", "file" }, cmd_delete_file, "delete file REPO:PATH",
	  "Delete a file (or an empty directory) from a repo.", "\nNeeds REPO_WRITE.\n" },
};

const size_t ncmds_objects = sizeof(cmds_objects) / sizeof(cmds_objects[0]);

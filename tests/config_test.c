/*
 * config_test - postdrip.conf parsing: continuation lines, $name expansion,
 * types and bounds, and file:line errors.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <ctype.h>
#include <cmocka.h>

#include "config/config.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "testutil.h"

static char *dir;

static CONFIG *
load(const char *text, char **err)
{
	char   *path = test_write(dir, "postdrip.conf", text);
	CONFIG *cf = config_load(path, err);

	myfree(path);
	return (cf);
}

static void
test_values(void **state)
{
	char   *err;
	CONFIG *cf = load("# comment\n"
			  "data_directory = /var/x\n"
			  "marketing_senders = *@news.example.com,\n"
			  "   @promo.example.com\n"
			  "\n"
			  "store_map_size = 2m\n"
			  "token_key_file = ${data_directory}/k\n", &err);
	char  **l;

	assert_non_null(cf);
	assert_string_equal(config_str(cf, "data_directory"), "/var/x");
	assert_string_equal(config_str(cf, "token_key_file"), "/var/x/k");
	assert_int_equal(config_int(cf, "store_map_size"), 2 * 1024 * 1024);
	l = config_list(cf, "marketing_senders");
	assert_string_equal(l[0], "*@news.example.com");
	assert_string_equal(l[1], "@promo.example.com");
	assert_null(l[2]);
	assert_false(config_is_default(cf, "data_directory"));
	assert_true(config_is_default(cf, "inject_address"));
	/* $config_directory follows the file. */
	assert_non_null(strstr(config_str(cf, "workflow_directory"), "/workflows"));
	assert_int_equal(strncmp(config_str(cf, "workflow_directory"), config_str(cf, "config_directory"),
				 strlen(config_str(cf, "config_directory"))), 0);
	config_unref(cf);
}

static void
test_errors(void **state)
{
	char   *err;
	CONFIG *cf = load("data_directory = /x\n"
			  "no_such_thing = 1\n"
			  "  \n"
			  "store_map_size = lots\n"
			  "just words\n"
			  "store_queue_max = 3\n", &err);

	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:2: unknown setting \"no_such_thing\""));
	assert_non_null(strstr(err, "postdrip.conf:5: missing '='"));
	myfree(err);
	/* Type and range errors come once the names are known. */
	cf = load("store_map_size = lots\nstore_queue_max = 3\npolicyd_listen = tcp-ish\n", &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:1: store_map_size = lots: expected a size"));
	assert_non_null(strstr(err, "postdrip.conf:2: store_queue_max = 3: out of range"));
	assert_non_null(strstr(err, "postdrip.conf:3: policyd_listen = tcp-ish: expected a socket"));
	myfree(err);
	cf = load("data_directory = $nothing_here\n", &err);
	assert_null(cf);
	assert_non_null(strstr(err, "unknown setting $nothing_here"));
	myfree(err);
	cf = load("data_directory = $token_key_file\ntoken_key_file = $data_directory\n", &err);
	assert_null(cf);
	assert_non_null(strstr(err, "recursion"));
	myfree(err);
	/* References multiply: 2,000 x 2,000 copies would be 400 MB. */
	{
		STRBUF	big = STRBUF_INIT;
		int	i;

		strbuf_puts(&big, "data_directory = ");
		for (i = 0; i < 2000; i++)
			strbuf_puts(&big, "$token_key_file");
		strbuf_puts(&big, "\ntoken_key_file = ");
		for (i = 0; i < 2000; i++)
			strbuf_puts(&big, "$workflow_directory");
		strbuf_puts(&big, "\nworkflow_directory = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
		cf = load(strbuf_str(&big), &err);
		strbuf_free(&big);
		assert_null(cf);
		assert_non_null(strstr(err, "postdrip.conf:1: data_directory: value longer than"));
		myfree(err);
	}
	/* Sockets: Postfix's notation only, a port in range. */
	cf = load("milter_listen = inet:8891@localhost\npolicyd_listen = inet:127.0.0.1:70000\n"
		  "tracker_listen = unix:relative.sock\n", &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:1: milter_listen = inet:8891@localhost: expected a socket"));
	assert_non_null(strstr(err, "postdrip.conf:2: policyd_listen = inet:127.0.0.1:70000: expected a socket"));
	assert_non_null(strstr(err, "postdrip.conf:3: tracker_listen = unix:relative.sock: expected a socket"));
	myfree(err);
	cf = load("milter_listen = inet:[::1]:8891\npolicyd_listen = 127.0.0.1:10040\n", &err);
	assert_non_null(cf);
	config_unref(cf);
	cf = load("  continued = 1\n", &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:1: continuation line without a setting"));
	myfree(err);
}

/* A line over 64 KiB is an error at its own line, wherever it is. */
static void
test_long_lines(void **state)
{
	STRBUF	big = STRBUF_INIT;
	char   *err;
	CONFIG *cf;
	int	i;

	/* Last line, no newline: it was dropped and check passed. */
	strbuf_puts(&big, "data_directory = /x\nmarketing_senders = ");
	for (i = 0; i < 70000; i++)
		strbuf_putc(&big, i % 20 ? 'a' : ',');
	cf = load(strbuf_str(&big), &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:2: line too long"));
	myfree(err);
	/* The same with a newline, then with settings after it. */
	strbuf_puts(&big, "\n");
	cf = load(strbuf_str(&big), &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:2: line too long"));
	myfree(err);
	strbuf_puts(&big, "# a comment\ninject_address = 127.0.0.1:25\n");
	cf = load(strbuf_str(&big), &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:2: line too long"));
	assert_null(strstr(err, "postdrip.conf:4"));
	myfree(err);
	/* A continuation that takes the setting over the limit: its line. */
	strbuf_reset(&big);
	strbuf_puts(&big, "marketing_senders = a@b.example\n");
	for (i = 0; i < 20; i++)
		strbuf_printf(&big, "  %04000d\n", i);
	cf = load(strbuf_str(&big), &err);
	assert_null(cf);
	assert_non_null(strstr(err, "postdrip.conf:18: line too long"));
	myfree(err);
	/* Just under the limit is fine. */
	strbuf_reset(&big);
	strbuf_puts(&big, "marketing_senders = ");
	for (i = (int) strlen("marketing_senders = "); i < 65536; i++)
		strbuf_putc(&big, 'a');
	cf = load(strbuf_str(&big), &err);
	assert_non_null(cf);
	config_unref(cf);
	strbuf_free(&big);
}

/* Sizes that do not fit are refused, not wrapped. */
static void
test_sizes(void **state)
{
	static const char *bad[] = {
		"store_map_max = 17179869185g\n",	/* 2^64 + 1g: wrapped to 1g */
		"store_map_max = 9223372036854775807k\n",
		"store_map_max = 99999999999999999999\n",
		"store_map_size = 18014398509481985m\n",
		0,
	};
	const char **p;
	char   *err;
	CONFIG *cf;

	for (p = bad; *p; p++) {
		cf = load(*p, &err);
		assert_null(cf);
		assert_non_null(strstr(err, "postdrip.conf:1: "));
		assert_non_null(strstr(err, "out of range"));
		myfree(err);
	}
	cf = load("store_map_max = -1g\n", &err);
	assert_null(cf);
	myfree(err);
	cf = load("store_map_max = 4g\n", &err);
	assert_non_null(cf);
	assert_int_equal(config_int(cf, "store_map_max"), 4LL << 30);
	config_unref(cf);
}

/* Each setting keeps the line that gave it. */
static void
test_lines(void **state)
{
	char   *err;
	CONFIG *cf = load("# one\n"
			  "data_directory = /x\n"
			  "marketing_senders = a@b.example,\n"
			  "  c@d.example\n"
			  "default_timezone = UTC\n"
			  "default_timezone = Europe/Paris\n", &err);

	assert_non_null(cf);
	assert_int_equal(config_line(cf, "data_directory"), 2);
	assert_int_equal(config_line(cf, "marketing_senders"), 3);
	assert_int_equal(config_line(cf, "default_timezone"), 6);
	assert_int_equal(config_line(cf, "inject_address"), 0);
	config_unref(cf);
}

static void
test_defaults(void **state)
{
	CONFIG *cf = config_defaults();
	const CONF_PARAM *p;

	/* Every default passes its own checks, and every setting has a doc. */
	for (p = config_params; p->name; p++) {
		assert_non_null(p->doc);
		assert_non_null(config_str(cf, p->name));
	}
	config_unref(cf);
}

/* scan_file - check the literal name of each config_str/int() call in a file */

static int
scan_file(const char *path, int *unknown)
{
	static const char *const calls[] = {"config_str(", "config_int(", 0};
	FILE   *fp = fopen(path, "r");
	STRBUF	text = STRBUF_INIT;
	char	buf[4096], name[128];
	const char *cp, *q;
	const CONF_PARAM *p;
	size_t	n;
	int	i, depth, found = 0;

	if (fp == 0)
		fail_msg("cannot read %s", path);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&text, buf, n);
	fclose(fp);
	for (i = 0; calls[i]; i++) {
		for (cp = strbuf_str(&text); (cp = strstr(cp, calls[i])) != 0; cp++) {
			/* A call, not a longer name ending so (my_config_str). */
			if (cp > strbuf_str(&text) && (isalnum((unsigned char) cp[-1]) || cp[-1] == '_'))
				continue;
			/* The second argument: past the first comma at depth 1. */
			for (q = cp + strlen(calls[i]), depth = 1; *q && depth > 0; q++) {
				if (*q == '(')
					depth++;
				else if (*q == ')')
					depth--;
				else if (*q == ',' && depth == 1)
					break;
			}
			if (*q != ',')
				continue;		/* the prototype, or one argument */
			for (q++; isspace((unsigned char) *q); q++)
				 /* void */ ;
			if (*q != '"')
				continue;		/* a name in a variable */
			for (n = 0, q++; *q && *q != '"' && n < sizeof(name) - 1; q++)
				name[n++] = *q;
			name[n] = 0;
			found++;
			for (p = config_params; p->name; p++)
				if (strcmp(p->name, name) == 0)
					break;
			if (p->name == 0) {
				print_error("%s: %s\"%s\"): no such setting in config_params[]\n",
					    path, calls[i], name);
				++*unknown;
			} else if (calls[i][7] == 'i' && p->type != CONF_INT
				   && p->type != CONF_TIME && p->type != CONF_SIZE) {
				print_error("%s: config_int(\"%s\"): not a number setting\n", path, name);
				++*unknown;
			}
		}
	}
	strbuf_free(&text);
	return (found);
}

/*
 * Every config_str(cf, "name") and config_int(cf, "name") in the sources
 * names a setting of the table: a typo would otherwise be found by a
 * msg_panic() at run time, on the path that reads it.
 */
static void
test_names_in_sources(void **state)
{
	static const char *const patterns[] = {
		TOP_SRCDIR "/engine/*.c", TOP_SRCDIR "/engine/*/*.c",
		TOP_SRCDIR "/milter/*.c", TOP_SRCDIR "/policyd/*.c",
		TOP_SRCDIR "/cli/*.c", TOP_SRCDIR "/tracker/*.c", 0,
	};
	glob_t	g;
	size_t	i;
	int	k, found = 0, unknown = 0, files = 0;

	for (k = 0; patterns[k]; k++) {
		if (glob(patterns[k], 0, 0, &g) != 0)
			continue;
		for (i = 0; i < g.gl_pathc; i++, files++)
			found += scan_file(g.gl_pathv[i], &unknown);
		globfree(&g);
	}
	/* The scan itself works: the sources read settings by name. */
	assert_true(files > 20);
	assert_true(found > 50);
	assert_int_equal(unknown, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_names_in_sources),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_lines),
	};
	int	rc;

	dir = test_mkdtemp();
	rc = cmocka_run_group_tests(tests, 0, 0);
	test_rmdir(dir);
	return (rc);
}

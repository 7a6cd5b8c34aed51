/*++
/* NAME
/*	rewrite_bench 1
/* SUMMARY
/*	how fast the link and open rewriter is, in-process on one core
/* SYNOPSIS
/*	rewrite_bench [-d html_directory] [-f file.html] [-s seconds]
/* DESCRIPTION
/*	Builds a marketing message of about 40 KB of HTML with 30 links:
/*	an MJML newsletter from tests/data/html, grown with article blocks
/*	until it has 30 trackable links and 40 KB, as
/*	multipart/alternative (text/plain, then text/html in
/*	quoted-printable, UTF-8), CRLF line ends as a milter sees them.
/*	Then rewrites it over and over with a callback that makes click
/*	URLs the size of real ones (a token and the percent-encoded
/*	original URL), and prints rewrites per second by CPU time (the
/*	machine may be shared) and by wall-clock time. It also prints the
/*	same for the 8bit form of the message and for the real-world
/*	templates as they are. Each phase stops after its time.
/*
/*	"new" rewrites a document the rewriter has not seen (its plan
/*	cache is emptied before each rewrite): the cost for a message
/*	whose HTML differs per recipient. "again" rewrites the same
/*	document over and over: the cost for each recipient's copy of a
/*	message that the policy daemon split into one transaction per
/*	recipient, where the HTML is parsed once.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/rewrite.h"

/* bench_cpu - CPU seconds of this process */

static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* bench_now - monotonic seconds */

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* link_cb - a click URL as long as a real one */

static char *
link_cb(void *ctx, const char *url, const char *name, int number)
{
	STRBUF	sb = STRBUF_INIT;
	const char *cp;

	strbuf_printf(&sb, "https://t.example.com/c/v1.k1.%08dAbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGh?l=", number);
	for (cp = name; *cp; cp++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", *cp))
			strbuf_putc(&sb, *cp);
		else
			strbuf_printf(&sb, "%%%02X", (unsigned char) *cp);
	strbuf_puts(&sb, "&u=");
	for (cp = url; *cp; cp++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", *cp))
			strbuf_putc(&sb, *cp);
		else
			strbuf_printf(&sb, "%%%02X", (unsigned char) *cp);
	return (strbuf_steal(&sb));
}

static char *
pixel_cb(void *ctx)
{
	return (mystrdup("https://t.example.com/o/v1.k1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGh"));
}

/* slurp - a whole file */

static char *
slurp(const char *dir, const char *name)
{
	char   *path = myasprintf("%s/%s", dir, name);
	FILE   *fp = fopen(path, "rb");
	STRBUF	sb = STRBUF_INIT;
	char	buf[8192];
	size_t	n;

	if (fp == 0) {
		perror(path);
		exit(1);
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(fp);
	myfree(path);
	return (strbuf_steal(&sb));
}

/* qp - quoted-printable with CRLF, as a sender's MUA writes it */

static void
qp(const char *in, STRBUF *out)
{
	int	col = 0;

	for (; *in; in++) {
		unsigned char c = *in;

		if (c == '\n') {
			strbuf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		if (col >= 72) {
			strbuf_puts(out, "=\r\n");
			col = 0;
		}
		if (c == '=' || c >= 127 || (c < 32 && c != '\t')) {
			strbuf_printf(out, "=%02X", c);
			col += 3;
		} else {
			strbuf_putc(out, c);
			col++;
		}
	}
}

/* crlf - LF to CRLF */

static void
crlf(const char *in, STRBUF *out)
{
	for (; *in; in++) {
		if (*in == '\n')
			strbuf_putc(out, '\r');
		strbuf_putc(out, *in);
	}
}

/* message - the HTML as a multipart/alternative message */

static char *
message(const char *html, int encode, size_t *len)
{
	STRBUF	m = STRBUF_INIT;

	strbuf_puts(&m, "From: News <news@example.com>\r\nTo: ann@example.net\r\n"
		    "Subject: Spring news\r\nMessage-ID: <b1@example.com>\r\n"
		    "MIME-Version: 1.0\r\n"
		    "Content-Type: multipart/alternative; boundary=\"=_b1\"\r\n\r\n"
		    "--=_b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		    "Spring news. Read it at https://www.example.com/news\r\n\r\n"
		    "--=_b1\r\nContent-Type: text/html; charset=utf-8\r\n");
	if (encode) {
		strbuf_puts(&m, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp(html, &m);
	} else {
		strbuf_puts(&m, "Content-Transfer-Encoding: 8bit\r\n\r\n");
		crlf(html, &m);
	}
	strbuf_puts(&m, "\r\n--=_b1--\r\n");
	*len = m.len;
	return (strbuf_steal(&m));
}

/* run - rewrite for a while, print the rates */

static void
run(const char *what, const char *msg, size_t len, double limit, int again)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	double	c0, t0;
	double	c, t;
	long	n = 0;

	memset(&o, 0, sizeof(o));
	o.track_links = o.track_opens = 1;
	o.tracker_url = "https://t.example.com";
	o.link_url = link_cb;
	o.pixel_url = pixel_cb;
	c0 = bench_cpu();
	t0 = bench_now();
	do {
		if (!again)
			rewrite_cache_flush();
		if (rewrite_message(msg, len, &o, &out, &res) != REWRITE_OK) {
			fprintf(stderr, "rewrite_bench: %s: not rewritten\n", what);
			exit(1);
		}
		n++;
	} while (bench_now() - t0 < limit && n < 10000000);
	c = bench_cpu() - c0;
	t = bench_now() - t0;
	printf("%-34s %-5s %6zu bytes %3d links: %8.0f rewrites/s CPU, %8.0f/s wall, %6.1f MB/s\n",
	       what, again ? "again" : "new", len, res.links, n / c, n / t,
	       n * (double) len / c / 1e6);
	strbuf_free(&out);
}

int
main(int argc, char **argv)
{
	const char *dir = "tests/data/html";
	const char *base = "mjml-newsletter.html";
	static const char *const real[] = {
		"foundation-newsletter.html", "foundation-marketing.html",
		"mjml-newsletter.html", "mjml-promo.html", 0,
	};
	double	limit = 2;
	STRBUF	html = STRBUF_INIT;
	char   *text;
	char   *body;
	char   *msg;
	size_t	len;
	int	links;
	int	i;
	int	ch;

	while ((ch = getopt(argc, argv, "d:f:s:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			base = optarg;
			break;
		case 's':
			limit = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: rewrite_bench [-d html_directory] [-f file.html] [-s seconds]\n");
			return (2);
		}
	}
	text = slurp(dir, base);
	body = strstr(text, "</body>");
	if (body == 0) {
		fprintf(stderr, "rewrite_bench: %s has no </body>\n", base);
		return (1);
	}
	/* Count the template's own links with one rewrite, then grow it. */
	strbuf_append(&html, text, body - text);
	msg = message(text, 1, &len);
	{
		REWRITE_OPTS o;
		REWRITE_RESULT res;
		STRBUF	out = STRBUF_INIT;

		memset(&o, 0, sizeof(o));
		o.track_links = 1;
		o.tracker_url = "https://t.example.com";
		o.link_url = link_cb;
		rewrite_message(msg, len, &o, &out, &res);
		links = res.links;
		strbuf_free(&out);
	}
	myfree(msg);
	for (i = 0; links < 30; i++, links++)
		strbuf_printf(&html, "<div style=\"margin:0 auto;max-width:600px\"><table role=\"presentation\" "
			      "style=\"width:100%%\"><tr><td style=\"padding:10px 25px;font-family:Ubuntu,"
			      "Helvetica,Arial,sans-serif;font-size:13px;line-height:1.5\">\n"
			      "<h2>Article %d</h2>\n<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, "
			      "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad "
			      "minim veniam, quis nostrud exercitation ullamco laboris.</p>\n"
			      "<a href=\"https://blog.example.com/2026/03/article-%d?utm_source=newsletter&amp;"
			      "utm_medium=email&amp;utm_campaign=spring\" style=\"color:#f45e43\">Read more</a>\n"
			      "</td></tr></table></div>\n", i + 1, i + 1);
	while (html.len < 40 * 1024 - 200)
		strbuf_puts(&html, "<p style=\"font-size:13px;color:#555\">Sed ut perspiciatis unde omnis "
			    "iste natus error sit voluptatem accusantium doloremque laudantium.</p>\n");
	strbuf_puts(&html, body);

	printf("rewrite_bench: one core, in-process, %.0f s per line\n", limit);
	msg = message(html.data, 1, &len);
	run("40 KB HTML, 30 links, QP", msg, len, limit, 0);
	run("40 KB HTML, 30 links, QP", msg, len, limit, 1);
	myfree(msg);
	msg = message(html.data, 0, &len);
	run("40 KB HTML, 30 links, 8bit", msg, len, limit, 0);
	run("40 KB HTML, 30 links, 8bit", msg, len, limit, 1);
	myfree(msg);
	for (i = 0; real[i]; i++) {
		char   *h = slurp(dir, real[i]);

		msg = message(h, 1, &len);
		run(real[i], msg, len, limit / 2, 0);
		myfree(msg);
		myfree(h);
	}
	strbuf_free(&html);
	myfree(text);
	return (0);
}

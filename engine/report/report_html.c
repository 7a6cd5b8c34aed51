/*++
/* NAME
/*	report_html 3
/* SUMMARY
/*	the report as text, and as one self-contained HTML page
/* SYNOPSIS
/*	#include "report/report.h"
/*
/*	void	report_html(rep, out)
/*	const json_t *rep;
/*	STRBUF	*out;
/*
/*	void	report_text(rep, out)
/*	const json_t *rep;
/*	STRBUF	*out;
/* DESCRIPTION
/*	report_html() appends to out one HTML page that needs nothing
/*	else (no script, no outside style sheet, font or image: it works
/*	offline and from a mail attachment). Its pictures are inline SVG
/*	drawn here: a funnel per workflow (enrolled, sent, delivered,
/*	opened by a person, clicked by a person, goals), a daily chart of
/*	sends, human opens and human clicks, a bounce-reason breakdown, and
/*	the A/B arms of a workflow side by side with their intervals. The
/*	tables carry the numbers of the JSON report in data-k attributes
/*	so that a program can read them back.
/*
/*	report_text() appends the same counts as lines for a terminal.
/* SEE ALSO
/*	report(3)
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "message/template.h"

/* esc - text as HTML */

static void
esc(STRBUF *out, const char *s)
{
	if (s)
		template_html_escape(out, s, strlen(s));
}

static json_int_t
num(const json_t *o, const char *k)
{
	return (json_integer_value(json_object_get(o, k)));
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return (s ? s : "");
}

/* pct - a rate object as "12.5%" (or "-" without a base) */

static void
pct(STRBUF *out, const json_t *r)
{
	const json_t *v = json_object_get(r, "rate");

	if (json_is_number(v))
		strbuf_printf(out, "%.1f%%", 100 * json_number_value(v));
	else
		strbuf_puts(out, "-");
}

/* cell - a numeric table cell that names its key */

static void
cell(STRBUF *out, const char *key, json_int_t n)
{
	strbuf_printf(out, "<td data-k=\"%s\">%lld</td>", key, (long long) n);
}

/* rate_cell - a rate cell: percentage, with count and base */

static void
rate_cell(STRBUF *out, const char *key, const json_t *r)
{
	strbuf_printf(out, "<td data-k=\"%s\" data-count=\"%lld\" data-base=\"%lld\">",
		      key, (long long) num(r, "count"), (long long) num(r, "base"));
	pct(out, r);
	strbuf_printf(out, " <small>(%lld/%lld)</small></td>",
		      (long long) num(r, "count"), (long long) num(r, "base"));
}

static const char *const colours[] = {"#2b6cb0", "#2f855a", "#c05621", "#805ad5",
"#b7791f", "#c53030", "#319795", "#718096"};

/* funnel - horizontal bars, each stage's width against the first */

static void
funnel(STRBUF *out, const json_t *w)
{
	const json_t *t = json_object_get(w, "totals");
	struct {
		const char *key, *label;
		json_int_t n;
	}       st[] = {
		{"enrolled", "Enrolled", num(w, "enrolled")},
		{"sent", "Sent", num(t, "sent")},
		{"delivered", "Delivered", num(t, "delivered")},
		{"opened", "Opened (human)", num(t, "opened")},
		{"clicked", "Clicked (human)", num(t, "clicked")},
		{"goals", "Goal reached", num(w, "goals")},
	};
	int	i, nst = sizeof(st) / sizeof(st[0]);
	json_int_t max = 1;
	double	width;

	for (i = 0; i < nst; i++)
		if (st[i].n > max)
			max = st[i].n;
	strbuf_printf(out, "<svg class=\"funnel\" role=\"img\" width=\"640\" height=\"%d\" "
		      "viewBox=\"0 0 640 %d\" xmlns=\"http://www.w3.org/2000/svg\">"
		      "<title>Funnel</title>\n", nst * 30 + 10, nst * 30 + 10);
	for (i = 0; i < nst; i++) {
		width = 420.0 * (double) st[i].n / (double) max;
		strbuf_printf(out, "<text x=\"0\" y=\"%d\" font-size=\"13\">%s</text>"
			      "<rect data-k=\"%s\" data-n=\"%lld\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			      "height=\"22\" fill=\"%s\"/>"
			      "<text x=\"%.1f\" y=\"%d\" font-size=\"13\">%lld</text>\n",
			      i * 30 + 20, st[i].label, st[i].key, (long long) st[i].n,
			      130 + (420 - width) / 2, i * 30 + 4, width, colours[i],
			      130 + (420 + width) / 2 + 6, i * 30 + 20, (long long) st[i].n);
	}
	strbuf_puts(out, "</svg>\n");
}

/* daily - one polyline per series over the days */

static void
daily(STRBUF *out, const json_t *days)
{
	static const char *const series[] = {"sent", "human_opens", "human_clicks"};
	static const char *const label[] = {"Sent", "Human opens", "Human clicks"};
	size_t	n = json_array_size(days), i;
	json_int_t max = 1, v;
	int	s;
	double	x, y, step;

	for (i = 0; i < n; i++)
		for (s = 0; s < 3; s++)
			if ((v = num(json_array_get(days, i), series[s])) > max)
				max = v;
	step = n > 1 ? 600.0 / (double) (n - 1) : 0;
	strbuf_puts(out, "<svg id=\"daily\" role=\"img\" width=\"700\" height=\"260\" "
		    "viewBox=\"0 0 700 260\" xmlns=\"http://www.w3.org/2000/svg\">"
		    "<title>Daily sends, human opens and human clicks</title>\n"
		    "<line x1=\"50\" y1=\"210\" x2=\"660\" y2=\"210\" stroke=\"#999\"/>"
		    "<line x1=\"50\" y1=\"10\" x2=\"50\" y2=\"210\" stroke=\"#999\"/>\n");
	strbuf_printf(out, "<text x=\"44\" y=\"16\" font-size=\"11\" text-anchor=\"end\">%lld</text>"
		      "<text x=\"44\" y=\"210\" font-size=\"11\" text-anchor=\"end\">0</text>\n",
		      (long long) max);
	for (s = 0; s < 3; s++) {
		strbuf_printf(out, "<polyline data-series=\"%s\" data-values=\"", series[s]);
		for (i = 0; i < n; i++)
			strbuf_printf(out, "%s%lld", i ? "," : "",
				      (long long) num(json_array_get(days, i), series[s]));
		strbuf_printf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			      colours[s]);
		for (i = 0; i < n; i++) {
			x = 50 + (n > 1 ? step * (double) i : 300);
			y = 210 - 200.0 * (double) num(json_array_get(days, i), series[s]) / (double) max;
			strbuf_printf(out, "%s%.1f,%.1f", i ? " " : "", x, y);
		}
		strbuf_puts(out, "\"/>\n");
		strbuf_printf(out, "<rect x=\"%d\" y=\"232\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			      "<text x=\"%d\" y=\"243\" font-size=\"12\">%s</text>\n",
			      60 + s * 150, colours[s], 76 + s * 150, label[s]);
	}
	if (n) {
		strbuf_printf(out, "<text x=\"50\" y=\"226\" font-size=\"11\">%s</text>",
			      str(json_array_get(days, 0), "date"));
		strbuf_printf(out, "<text x=\"660\" y=\"226\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
			      str(json_array_get(days, n - 1), "date"));
	}
	strbuf_puts(out, "</svg>\n");
}

/* bounces - one stacked bar (hard, soft) per reason */

static void
bounces(STRBUF *out, const json_t *reasons)
{
	size_t	n = json_array_size(reasons), i;
	json_int_t max = 1;
	const json_t *r;
	double	wh, ws;

	for (i = 0; i < n; i++)
		if (num(json_array_get(reasons, i), "total") > max)
			max = num(json_array_get(reasons, i), "total");
	strbuf_printf(out, "<svg id=\"bounces\" role=\"img\" width=\"640\" height=\"%zu\" "
		      "viewBox=\"0 0 640 %zu\" xmlns=\"http://www.w3.org/2000/svg\">"
		      "<title>Bounces by reason</title>\n", n * 26 + 30, n * 26 + 30);
	for (i = 0; i < n; i++) {
		r = json_array_get(reasons, i);
		wh = 400.0 * (double) num(r, "hard") / (double) max;
		ws = 400.0 * (double) num(r, "soft") / (double) max;
		strbuf_printf(out, "<g class=\"reason\" data-reason=\"");
		esc(out, str(r, "reason"));
		strbuf_printf(out, "\" data-hard=\"%lld\" data-soft=\"%lld\">"
			      "<text x=\"0\" y=\"%zu\" font-size=\"13\">", (long long) num(r, "hard"),
			      (long long) num(r, "soft"), i * 26 + 17);
		esc(out, str(r, "reason"));
		strbuf_printf(out, "</text><rect x=\"140\" y=\"%zu\" width=\"%.1f\" height=\"20\" "
			      "fill=\"#c53030\"/><rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" "
			      "height=\"20\" fill=\"#dd6b20\"/><text x=\"%.1f\" y=\"%zu\" "
			      "font-size=\"13\">%lld hard, %lld soft</text></g>\n",
			      i * 26, wh, 140 + wh, i * 26, ws, 146 + wh + ws, i * 26 + 17,
			      (long long) num(r, "hard"), (long long) num(r, "soft"));
	}
	strbuf_printf(out, "<rect x=\"140\" y=\"%zu\" width=\"12\" height=\"12\" fill=\"#c53030\"/>"
		      "<text x=\"156\" y=\"%zu\" font-size=\"12\">hard</text>"
		      "<rect x=\"210\" y=\"%zu\" width=\"12\" height=\"12\" fill=\"#dd6b20\"/>"
		      "<text x=\"226\" y=\"%zu\" font-size=\"12\">soft</text></svg>\n",
		      n * 26 + 6, n * 26 + 17, n * 26 + 6, n * 26 + 17);
}

/* arms - the A/B arms of a workflow side by side */

static void
arms(STRBUF *out, const json_t *arr)
{
	static const char *const what[] = {"open", "click", "goal"};
	size_t	n = json_array_size(arr), i;
	const json_t *a, *r;
	int	k;
	double	x, lo, hi, p;

	strbuf_puts(out, "<h3>A/B arms</h3>\n<table class=\"arms\"><tr><th>Arm</th><th>Sent</th>"
		    "<th>Human open rate</th><th>Human click rate</th><th>Goal rate</th></tr>\n");
	for (i = 0; i < n; i++) {
		a = json_array_get(arr, i);
		strbuf_puts(out, "<tr class=\"arm\" data-arm=\"");
		esc(out, str(a, "arm"));
		strbuf_puts(out, "\"><td>");
		esc(out, str(a, "arm"));
		strbuf_puts(out, "</td>");
		cell(out, "sent", num(a, "sent"));
		for (k = 0; k < 3; k++) {
			r = json_object_get(a, what[k]);
			rate_cell(out, what[k], r);
		}
		strbuf_puts(out, "</tr>\n");
	}
	strbuf_puts(out, "</table>\n");
	/* Each arm's rates as points with their 95% intervals. */
	strbuf_printf(out, "<svg class=\"arms\" role=\"img\" width=\"640\" height=\"%zu\" "
		      "viewBox=\"0 0 640 %zu\" xmlns=\"http://www.w3.org/2000/svg\">"
		      "<title>Arms with 95%% intervals</title>\n", 3 * (n * 18 + 24),
		      3 * (n * 18 + 24));
	for (k = 0; k < 3; k++) {
		strbuf_printf(out, "<text x=\"0\" y=\"%zu\" font-size=\"12\">%s rate</text>",
			      k * (n * 18 + 24) + 14, what[k]);
		for (i = 0; i < n; i++) {
			a = json_array_get(arr, i);
			r = json_object_get(a, what[k]);
			if (!json_is_number(json_object_get(r, "rate")))
				continue;
			p = json_number_value(json_object_get(r, "rate"));
			lo = json_number_value(json_object_get(r, "low"));
			hi = json_number_value(json_object_get(r, "high"));
			x = k * (n * 18 + 24) + 30 + i * 18;
			strbuf_puts(out, "<text x=\"90\" y=\"");
			strbuf_printf(out, "%.0f\" font-size=\"11\" text-anchor=\"end\">", x + 4);
			esc(out, str(a, "arm"));
			strbuf_printf(out, "</text><line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
				      "stroke=\"%s\" stroke-width=\"3\"/><circle cx=\"%.1f\" "
				      "cy=\"%.0f\" r=\"5\" fill=\"%s\"/>\n", 100 + 500 * lo, x,
				      100 + 500 * hi, x, colours[i % 8], 100 + 500 * p, x, colours[i % 8]);
		}
	}
	strbuf_puts(out, "</svg>\n");
}

/* report_html - the page */

void
report_html(const json_t *rep, STRBUF *out)
{
	const json_t *wfs = json_object_get(rep, "workflows"), *w, *s, *v, *r, *t;
	const char *k;
	size_t	i, j;

	strbuf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width\">\n<title>postdrip report</title>\n"
		    "<style>body{font-family:sans-serif;margin:1.5em;color:#222}"
		    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
		    "padding:.2em .5em;text-align:right}th{background:#f2f2f2}td:first-child{text-align:left}"
		    "section{margin-bottom:2em}.over{color:#c53030;font-weight:bold}.watch{color:#b7791f}"
		    ".ok{color:#2f855a}small{color:#666}.wide{overflow-x:auto}"
		    "table.steps td,table.steps th{font-size:12px;padding:.15em .35em}</style>\n</head><body>\n");
	strbuf_puts(out, "<h1>postdrip report</h1>\n<p id=\"meta\">Generated <span id=\"generated\">");
	esc(out, str(rep, "generated"));
	strbuf_puts(out, "</span>");
	if (*str(rep, "since")) {
		strbuf_puts(out, "; events since <span id=\"since\">");
		esc(out, str(rep, "since"));
		strbuf_puts(out, "</span>");
	}
	strbuf_puts(out, ". Opens and clicks count people only; machine opens and scanner "
		    "clicks are shown apart.</p>\n");

	strbuf_puts(out, "<section id=\"overview\"><h2>Daily</h2>\n");
	daily(out, json_object_get(rep, "daily"));
	strbuf_puts(out, "</section>\n");

	for (i = 0; i < json_array_size(wfs); i++) {
		w = json_array_get(wfs, i);
		t = json_object_get(w, "totals");
		strbuf_puts(out, "<section class=\"workflow\" data-workflow=\"");
		esc(out, str(w, "workflow"));
		strbuf_puts(out, "\"><h2>Workflow ");
		esc(out, str(w, "workflow"));
		strbuf_printf(out, "</h2>\n<p>Enrolled <b data-k=\"enrolled\">%lld</b>, completed "
			      "<b data-k=\"completed\">%lld</b>, goals reached <b data-k=\"goals\">%lld</b> (",
			      (long long) num(w, "enrolled"), (long long) num(w, "completed"),
			      (long long) num(w, "goals"));
		pct(out, json_object_get(w, "goal_rate"));
		strbuf_puts(out, " of enrolments).</p>\n");
		funnel(out, w);
		strbuf_puts(out, "<div class=\"wide\"><table class=\"steps\"><tr><th>Step</th><th>Sent</th><th>Delivered</th>"
			    "<th>Deferred</th><th>Hard bounces</th><th>Soft bounces</th>"
			    "<th>Human opens</th><th>Machine opens</th><th>Human clicks</th>"
			    "<th>Scanner clicks</th><th>Replies</th><th>Complaints</th>"
			    "<th>Unsubscribes</th><th>Open rate</th><th>Click rate</th>"
			    "<th>Bounce rate</th><th>Complaint rate</th></tr>\n");
		for (j = 0; j <= json_array_size(json_object_get(w, "steps")); j++) {
			s = j < json_array_size(json_object_get(w, "steps")) ?
				json_array_get(json_object_get(w, "steps"), j) : t;
			strbuf_puts(out, s == t ? "<tr class=\"total\"><td><b>total</b></td>" :
				    "<tr class=\"step\" data-step=\"");
			if (s != t) {
				esc(out, str(s, "step"));
				strbuf_puts(out, "\"><td>");
				esc(out, str(s, "step"));
				strbuf_puts(out, "</td>");
			}
			cell(out, "sent", num(s, "sent"));
			cell(out, "delivered", num(s, "delivered"));
			cell(out, "deferred", num(s, "deferred"));
			cell(out, "bounced_hard", num(s, "bounced_hard"));
			cell(out, "bounced_soft", num(s, "bounced_soft"));
			cell(out, "opens_human", num(s, "opens_human"));
			cell(out, "opens_machine", num(s, "opens_machine"));
			cell(out, "clicks_human", num(s, "clicks_human"));
			cell(out, "clicks_scanner", num(s, "clicks_scanner"));
			cell(out, "replies", num(s, "replies"));
			cell(out, "complaints", num(s, "complaints"));
			cell(out, "unsubscribes", num(s, "unsubscribes"));
			r = json_object_get(s, "rates");
			rate_cell(out, "open", json_object_get(r, "open"));
			rate_cell(out, "click", json_object_get(r, "click"));
			rate_cell(out, "bounce", json_object_get(r, "bounce"));
			rate_cell(out, "complaint", json_object_get(r, "complaint"));
			strbuf_puts(out, "</tr>\n");
		}
		strbuf_puts(out, "</table></div>\n");
		/* Clicks per named link. */
		if (json_object_size(json_object_get(t, "links"))) {
			strbuf_puts(out, "<table class=\"links\"><tr><th>Link</th><th>Human clicks</th>"
				    "<th>Scanner clicks</th></tr>\n");
			json_object_foreach((json_t *) json_object_get(t, "links"), k, v) {
				strbuf_puts(out, "<tr class=\"link\" data-link=\"");
				esc(out, k);
				strbuf_puts(out, "\"><td>");
				esc(out, k);
				strbuf_puts(out, "</td>");
				cell(out, "human", num(v, "human"));
				cell(out, "scanner", num(v, "scanner"));
				strbuf_puts(out, "</tr>\n");
			}
			strbuf_puts(out, "</table>\n");
		}
		if (json_object_size(json_object_get(w, "exits"))) {
			strbuf_puts(out, "<table class=\"exits\"><tr><th>Exit reason</th><th>Enrolments</th></tr>\n");
			json_object_foreach((json_t *) json_object_get(w, "exits"), k, v) {
				strbuf_puts(out, "<tr class=\"exit\" data-reason=\"");
				esc(out, k);
				strbuf_puts(out, "\"><td>");
				esc(out, k);
				strbuf_puts(out, "</td>");
				cell(out, "n", json_integer_value(v));
				strbuf_puts(out, "</tr>\n");
			}
			strbuf_puts(out, "</table>\n");
		}
		if (json_array_size(json_object_get(w, "arms")))
			arms(out, json_object_get(w, "arms"));
		strbuf_puts(out, "</section>\n");
	}

	strbuf_puts(out, "<section id=\"bounce-reasons\"><h2>Bounces by reason</h2>\n");
	bounces(out, json_object_get(rep, "bounce_reasons"));
	strbuf_puts(out, "</section>\n<section id=\"domains\"><h2>Complaint rate per sender domain</h2>\n"
		    "<p>Gmail's line is 0.3%; stay under 0.1%.</p>\n<table class=\"domains\"><tr>"
		    "<th>Domain</th><th>Sent</th><th>Delivered</th><th>Complaints</th>"
		    "<th>Complaint rate</th><th>Status</th></tr>\n");
	wfs = json_object_get(rep, "sender_domains");
	for (i = 0; i < json_array_size(wfs); i++) {
		v = json_array_get(wfs, i);
		strbuf_puts(out, "<tr class=\"domain\" data-domain=\"");
		esc(out, str(v, "domain"));
		strbuf_puts(out, "\"><td>");
		esc(out, str(v, "domain"));
		strbuf_puts(out, "</td>");
		cell(out, "sent", num(v, "sent"));
		cell(out, "delivered", num(v, "delivered"));
		cell(out, "complaints", num(v, "complaints"));
		rate_cell(out, "complaint_rate", json_object_get(v, "complaint_rate"));
		strbuf_printf(out, "<td class=\"%s\" data-k=\"status\">%s</td></tr>\n",
			      str(v, "status"), str(v, "status"));
	}
	strbuf_puts(out, "</table></section>\n</body></html>\n");
}

/* report_text - lines for a terminal */

void
report_text(const json_t *rep, STRBUF *out)
{
	const json_t *wfs = json_object_get(rep, "workflows"), *w, *s, *r, *v;
	const char *k;
	size_t	i, j;

	for (i = 0; i < json_array_size(wfs); i++) {
		w = json_array_get(wfs, i);
		strbuf_printf(out, "workflow %s: enrolled %lld, completed %lld, goals %lld (",
			   str(w, "workflow"), (long long) num(w, "enrolled"),
			      (long long) num(w, "completed"), (long long) num(w, "goals"));
		pct(out, json_object_get(w, "goal_rate"));
		strbuf_puts(out, ")\n");
		json_object_foreach((json_t *) json_object_get(w, "exits"), k, v)
			strbuf_printf(out, "  exit %s: %lld\n", k, (long long) json_integer_value(v));
		for (j = 0; j <= json_array_size(json_object_get(w, "steps")); j++) {
			s = j < json_array_size(json_object_get(w, "steps")) ?
				json_array_get(json_object_get(w, "steps"), j) : json_object_get(w, "totals");
			r = json_object_get(s, "rates");
			strbuf_printf(out, "  %-16s sent %lld delivered %lld deferred %lld bounced %lld "
				      "(hard %lld, soft %lld) opens %lld human %lld machine "
				      "clicks %lld human %lld scanner replies %lld complaints %lld "
				      "unsubscribes %lld; open ", *str(s, "step") ? str(s, "step") : "total",
				      (long long) num(s, "sent"), (long long) num(s, "delivered"),
				      (long long) num(s, "deferred"), (long long) num(s, "bounced"),
				      (long long) num(s, "bounced_hard"), (long long) num(s, "bounced_soft"),
				      (long long) num(s, "opens_human"), (long long) num(s, "opens_machine"),
				      (long long) num(s, "clicks_human"), (long long) num(s, "clicks_scanner"),
				      (long long) num(s, "replies"), (long long) num(s, "complaints"),
				      (long long) num(s, "unsubscribes"));
			pct(out, json_object_get(r, "open"));
			strbuf_puts(out, " click ");
			pct(out, json_object_get(r, "click"));
			strbuf_puts(out, "\n");
		}
	}
	wfs = json_object_get(rep, "sender_domains");
	for (i = 0; i < json_array_size(wfs); i++) {
		v = json_array_get(wfs, i);
		strbuf_printf(out, "domain %s: sent %lld, complaints %lld, complaint rate ",
			      str(v, "domain"), (long long) num(v, "sent"), (long long) num(v, "complaints"));
		pct(out, json_object_get(v, "complaint_rate"));
		strbuf_printf(out, " (%s; Gmail's line 0.3%%, aim under 0.1%%)\n", str(v, "status"));
	}
}

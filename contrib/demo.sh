#!/bin/sh
# NAME
#	demo.sh 1
# SUMMARY
#	postdrip on a fresh store, start to finish
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh contrib/demo.sh
#	(run by "./postdrip-dev demo", after the build)
# DESCRIPTION
#	Makes a temporary directory with its own postdrip.conf (DEMO.conf)
#	and LMDB store, and walks through what the command line does today:
#	a signing key, "postdrip check", contacts imported from CSV, events
#	at fixed times (POSTDRIP_NOW, so no waiting), a suppression, a
#	contact's timeline, and "postdrip stats".
#
#	Each stage is a function, so the demo grows by adding stages: the
#	full demo runs the shipped workflows against a private Postfix
#	(tests/lib/pfx.sh) with postdrip-milter, postdrip-policyd and
#	postdrip-engine.
#
#	The directory is removed at the end unless DEMO_KEEP=1.
# DIAGNOSTICS
#	Exit 0 when every stage worked; otherwise the failing command is
#	named and the exit status is 1.
#--

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
POSTDRIP=$top_builddir/cli/postdrip
[ -x "$POSTDRIP" ] || { echo "demo: $POSTDRIP not built (run make)" >&2; exit 1; }

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/postdrip-demo.XXXXXX") || exit 1
chmod 755 "$DEMO"
demo_cleanup() {
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $DEMO"
	else
		rm -rf "$DEMO"
	fi
}
trap demo_cleanup EXIT
trap 'exit 130' INT TERM HUP

unset POSTDRIP_NOW
CONF=$DEMO/DEMO.conf

# stage - print a heading
stage() {
	echo
	echo "### $*"
}

# pd - run postdrip with the demo's configuration, echoing the command
pd() {
	echo "\$ postdrip $*"
	"$POSTDRIP" -c "$CONF" "$@" || { echo "demo: postdrip $* failed" >&2; exit 1; }
}

# pd_at - the same at a fixed time
pd_at() {
	_when=$1
	shift
	echo "\$ POSTDRIP_NOW=$_when postdrip $*"
	POSTDRIP_NOW=$_when "$POSTDRIP" -c "$CONF" "$@" ||
	    { echo "demo: postdrip $* failed" >&2; exit 1; }
}

demo_config() {
	stage "A fresh store in $DEMO"
	mkdir -p "$DEMO/data"
	cat >"$CONF" <<EOF
# DEMO.conf - postdrip.conf for the demo
data_directory = $DEMO/data
token_key_file = \$config_directory/keys
marketing_senders = *@news.example.com
bounce_domain = bounce.example.com
tracker_url = https://track.example.com
EOF
	cat "$CONF"
	pd keygen
	pd check
	pd stats
}

demo_contacts() {
	stage "Contacts from CSV (a malformed row is reported and skipped)"
	cat >"$DEMO/contacts.csv" <<'EOF'
email,first_name,birthday,timezone,owner,tags
ann@example.com,Ann,1990-05-01,Europe/Berlin,rep@example.com,vip
bob@example.org,Bob,1985-12-24,America/New_York,rep@example.com,
not-an-address,Nobody,,,,
carol@example.net,Carol,,Asia/Tokyo,,trial
EOF
	cat "$DEMO/contacts.csv"
	# Exit 1 is expected here: one row is malformed.
	echo "\$ postdrip contact import contacts.csv"
	"$POSTDRIP" -c "$CONF" contact import "$DEMO/contacts.csv"
	pd contact show ann@example.com
}

demo_events() {
	stage "Events at fixed times"
	pd_at 2026-03-01T09:00:00Z event ann@example.com subscribed source=website
	pd_at 2026-03-02T10:30:00Z event ann@example.com page_visit url=/pricing
	pd_at 2026-03-03T16:45:00Z event ann@example.com purchased sku=A1 amount=49.00
	pd_at 2026-03-02T08:00:00Z event bob@example.org cart_abandoned cart=C-17
	pd timeline ann@example.com
}

demo_suppression() {
	stage "Suppression (the policy daemon refuses marketing mail to these)"
	pd suppress bob@example.org --reason complaint
	pd suppressed
}

demo_stats() {
	stage "Counts"
	pd stats
}

demo_config
demo_contacts
demo_events
demo_suppression
demo_stats
echo
echo "demo: done"

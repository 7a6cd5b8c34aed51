# tracker_fixture.sh - sourced by tracker_bench.sh and tracker_instr.sh,
# which set T (a temp dir), tp (a free loopback port), pd (postdrip) and
# tt (tests/track_tool). Writes $T/postdrip.conf for a tracker on
# 127.0.0.1:$tp with no rate limit and the timing windows off (every
# request counts as a person's), makes a key, one contact and one recorded
# send an hour old, and sets O and C to the signed URLs of its pixel and
# of a click on its "pricing" link.
mkdir -p "$T/data" "$T/workflows" "$T/templates"
cat >"$T/postdrip.conf" <<EOF2
data_directory = $T/data
workflow_directory = $T/workflows
template_directory = $T/templates
token_key_file = $T/keys
tracker_listen = inet:127.0.0.1:$tp
tracker_url = http://127.0.0.1:$tp
tracker_rate_limit = 0
tracker_open_window = 0
tracker_click_window = 0
inject_address = 127.0.0.1:1
EOF2
"$pd" -c "$T/postdrip.conf" keygen >/dev/null || exit 1
"$pd" -c "$T/postdrip.conf" contact add bench@example.com >/dev/null || exit 1
msg=$("$tt" sent "$T/data" 1 bench.1@example.com $(($(date +%s) - 3600))) || exit 1
O=$("$tt" url "$T/keys" "http://127.0.0.1:$tp" open 1 "$msg") || exit 1
C=$("$tt" url "$T/keys" "http://127.0.0.1:$tp" click 1 "$msg" 1 pricing "https://www.example.com/pricing") || exit 1

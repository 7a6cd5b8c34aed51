#!/bin/sh
# NAME
#	sources.sh 1
# SUMMARY
#	the program sources a fuzz target needs besides the engine library
# SYNOPSIS
#	sh sources.sh [--cflags] TOP_SRCDIR fuzz/fuzz_NAME.c
# DESCRIPTION
#	Every fuzz target links the whole engine. A target for a parser that
#	lives in a program's folder (policyd/, milter/, tracker/, ...)
#	needs that folder's source too. Two ways name it:
#
#	- a header the target includes that is not an engine header: for
#	  #include "policyd_proto.h" (found in any top-level folder) or
#	  #include "../policyd/policyd_proto.h" the file
#	  policyd/policyd_proto.c is linked;
#	- a line "FUZZ_SOURCES: dir/file.c ..." anywhere in the target (in
#	  its man-page comment), for anything else.
#
#	Prints those source paths, or with --cflags the -I options for their
#	folders, on one line.
#--
cflags=0
if [ "$1" = --cflags ]; then
	cflags=1
	shift
fi
top=$1
target=$2
[ -r "$target" ] || { echo "sources.sh: cannot read $target" >&2; exit 1; }

out=
# "name.h" is looked for in every top-level folder; "../dir/name.h" names it.
for h in $(sed -n 's/^[ 	]*#[ 	]*include[ 	]*"\([^"]*\)\.h".*/\1/p' "$target"); do
	case $h in
	../*/*)	# A path from fuzz/: ../policyd/policyd_proto
		dir=$top/$(dirname "${h#../}")
		h=$(basename "$h")
		[ -f "$dir/$h.h" ] || continue
		case ${dir##*/} in
		engine|fuzz) continue ;;
		esac
		if [ $cflags = 1 ]; then
			out="$out -I$dir"
		elif [ -f "$dir/$h.c" ]; then
			out="$out $dir/$h.c"
		fi
		continue ;;
	*/*)	continue ;;
	esac
	[ -f "$top/engine/$h.h" ] && continue
	[ -f "$top/fuzz/$h.h" ] && continue
	for dir in "$top"/*/; do
		dir=${dir%/}
		case ${dir##*/} in
		engine|fuzz|tests|bench) continue ;;
		esac
		if [ -f "$dir/$h.h" ]; then
			if [ $cflags = 1 ]; then
				out="$out -I$dir"
			elif [ -f "$dir/$h.c" ]; then
				out="$out $dir/$h.c"
			fi
			break
		fi
	done
done
for f in $(sed -n 's/.*FUZZ_SOURCES:\(.*\)/\1/p' "$target" | sed 's/\*\/.*//'); do
	if [ $cflags = 1 ]; then
		out="$out -I$top/$(dirname "$f")"
	else
		out="$out $top/$f"
	fi
done
# Unique, order kept: the same folder may be named twice.
echo $(printf '%s\n' $out | awk '!seen[$0]++')

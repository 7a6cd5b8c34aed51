#ifndef PD_YNODE_H
#define PD_YNODE_H

/*
 * ynode - YAML documents as small trees that remember their lines.
 *
 * libfyaml parses; we keep, for every node, the line it starts on, so that
 * the readers of our YAML files (workflows, segments) can report
 * "file:line: message". Aliases are refused (a file that expands into a
 * billion nodes is an attack, not a workflow); anchors and tags are
 * ignored; duplicate mapping keys are errors. Input, depth and node count
 * are bounded.
 */
#include <stddef.h>

#include "util/strbuf.h"

typedef enum {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_SEQ,
} YNODE_TYPE;

typedef struct YNODE {
	YNODE_TYPE type;
	int	line;			/* 1-based */
	char   *str;			/* SCALAR: the value, null-terminated */
	size_t	len;			/* SCALAR: its length (never holds a null) */
	int	plain;			/* SCALAR: unquoted (so "~" and "" mean null) */
	int	n;			/* MAP: pairs; SEQ: items */
	struct YNODE **kids;		/* MAP: key, value, key, value...; SEQ: items */
} YNODE;

#define YNODE_INPUT_MAX	(1024 * 1024)	/* bytes of one file */
#define YNODE_DEPTH_MAX	32
#define YNODE_COUNT_MAX	100000		/* nodes of one file */

/* Parse every document of the text. Returns the number of documents with
 * *docs set (an array of roots, NULL for an empty document), or -1 with
 * "name:line: message" lines appended to errs. */
int	ynode_parse(const char *name, const char *text, size_t len,
		            YNODE ***docs, STRBUF *errs);
void	ynode_free_docs(YNODE **docs, int ndocs);
void	ynode_free(YNODE *n);

/* A plain scalar that YAML reads as null: empty, "~", "null". */
int	ynode_is_null(const YNODE *n);
/* MAP: the value of a key, or NULL. */
YNODE  *ynode_get(const YNODE *map, const char *key);
const char *ynode_type_name(const YNODE *n);

#endif

/*++
/* NAME
/*	fuzz_inject 1
/* SUMMARY
/*	fuzz target: the injector's SMTP reply reader
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Plays the server: the input is everything the server says (greeting,
/*	EHLO reply, replies to MAIL, RCPT, DATA and the message), sent at
/*	once over a unix socket, after which the server reads until the
/*	client closes. The client injects one message with a one-second
/*	timeout and must end with a status of OK, DEFER or REJECT, never
/*	hang, crash or read past a line or reply bound; an outcome of OK
/*	is only possible when the input holds a 354.
/*
/*	Seeds: fuzz/corpus/inject/.
/*--*/
#include "pdconfig.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sched/inject.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct PEER {
	int	lfd;
	const uint8_t *data;
	size_t	size;
} PEER;

/* peer_run - accept one client, say everything, drain until it closes */

static void *
peer_run(void *arg)
{
	PEER   *p = arg;
	char	buf[4096];
	ssize_t	n;
	size_t	off = 0;
	int	fd;

	if ((fd = accept(p->lfd, 0, 0)) < 0)
		return (0);
	while (off < p->size && (n = send(fd, p->data + off, p->size - off, MSG_NOSIGNAL)) > 0)
		off += (size_t) n;
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		 /* drain */ ;
	close(fd);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[108];
	static int lfd = -1;
	struct sockaddr_un sun;
	pthread_t tid;
	PEER	peer;
	INJECT *inj;
	INJECT_MSG m;
	char	addr[128];

	if (lfd < 0) {
		snprintf(path, sizeof(path), "/tmp/fuzz_inject.%ld.sock", (long) getpid());
		unlink(path);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0
		    || bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0
		    || listen(lfd, 4) < 0)
			abort();
	}
	peer.lfd = lfd;
	peer.data = data;
	peer.size = size;
	if (pthread_create(&tid, 0, peer_run, &peer) != 0)
		abort();
	snprintf(addr, sizeof(addr), "unix:%s", path);
	inj = inject_create(addr, 1, 1, "fuzz.test");
	memset(&m, 0, sizeof(m));
	m.sender = "bounces+x@bounce.test";
	m.rcpt = "a@x.test";
	m.data = "Subject: x\n\n.line\n";
	m.len = strlen(m.data);
	(void) inject_batch(inj, &m, 1);
	inject_free(inj);
	pthread_join(tid, 0);
	if (m.status != INJECT_OK && m.status != INJECT_DEFER && m.status != INJECT_REJECT)
		abort();
	if (m.status == INJECT_OK && memmem(data, size, "354", 3) == 0)
		abort();
	if (memchr(m.reply, 0, sizeof(m.reply)) == 0)
		abort();
	return (0);
}

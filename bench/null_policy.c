/*++
/* NAME
/*	null_policy 1
/* SUMMARY
/*	a policy server that does nothing, to compare postdrip-policyd with
/* SYNOPSIS
/*	null_policy PORT
/* DESCRIPTION
/*	null_policy listens on 127.0.0.1:PORT and answers every policy
/*	delegation request (name=value lines ended by an empty line, as
/*	Postfix's smtpd sends them) with "action=DUNNO", without looking
/*	at the attributes: the cheapest a policy server can be, the
/*	baseline of bench/policy_bench.sh. One thread per connection, as
/*	the load generator keeps its connections open; pipelined requests
/*	are answered in order.
/*
/*	A request larger than its buffer (64 kB) ends the connection. It
/*	stops on SIGTERM (the default action).
/*--*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define NP_BUF	65536

static const char np_reply[] = "action=DUNNO\n\n";

/* np_write - all of buf */

static int
np_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= n;
	}
	return (0);
}

/* np_conn - one connection: a reply per empty line that ends a request */

static void *
np_conn(void *arg)
{
	int	fd = (int) (long) arg;
	char   *buf = malloc(NP_BUF), *out = malloc(NP_BUF);
	size_t	have = 0, start, i, olen;
	ssize_t	n;
	int	prev_nl = 0;

	if (buf == 0 || out == 0) {
		close(fd);
		free(buf);
		free(out);
		return (0);
	}
	for (;;) {
		if (have == NP_BUF)
			break;			/* one request fills the buffer */
		if ((n = read(fd, buf + have, NP_BUF - have)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		olen = 0;
		start = 0;
		for (i = have; i < have + (size_t) n; i++) {
			if (buf[i] != '\n') {
				prev_nl = 0;
				continue;
			}
			if (prev_nl || i == start) {
				if (olen + sizeof(np_reply) - 1 <= NP_BUF) {
					memcpy(out + olen, np_reply, sizeof(np_reply) - 1);
					olen += sizeof(np_reply) - 1;
				}
				start = i + 1;
				prev_nl = 0;
			} else {
				prev_nl = 1;
			}
		}
		/* Keep only the unfinished request. */
		have += n;
		if (start > 0) {
			memmove(buf, buf + start, have - start);
			have -= start;
		}
		if (olen && np_write(fd, out, olen) < 0)
			break;
	}
	close(fd);
	free(buf);
	free(out);
	return (0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	pthread_attr_t attr;
	pthread_t thr;
	int	fd, cfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: null_policy PORT\n");
		return (1);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	    || bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0
	    || listen(fd, 1024) < 0) {
		perror("null_policy: listen");
		return (1);
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		if ((cfd = accept(fd, 0, 0)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("null_policy: accept");
			return (1);
		}
		(void) setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (pthread_create(&thr, &attr, np_conn, (void *) (long) cfd) != 0)
			close(cfd);
	}
}

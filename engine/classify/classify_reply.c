/*++
/* NAME
/*	classify_reply 3
/* SUMMARY
/*	an SMTP reply read as a delivery status notification would be
/* SYNOPSIS
/*	#include "classify/classify.h"
/*
/*	void	classify_reply(reply, command, recipient, row)
/*	const char *reply;
/*	const char *command;
/*	const char *recipient;
/*	CLASSIFY_RCPT *row;
/* DESCRIPTION
/*	classify_reply() fills row for a reply that an SMTP server gave
/*	when postdrip itself handed it a message (the injector), so that a
/*	refusal at injection is judged by the same rules as a bounce that
/*	comes back by mail: the status is the reply's enhanced code (RFC
/*	3463), or the basic code's class (x.0.0) when it has none; the
/*	reason and class come from the classifier's reason rules, with the
/*	command that was answered ("RCPT TO", "DATA", "end of DATA") as the
/*	context a DSN's "in reply to ... command" would give.
/*
/*	The reply is one line, as the injector keeps it; it is not trusted
/*	beyond what a DSN's Diagnostic-Code would be.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "classify/classify_int.h"

/* classify_reply - status, class and reason of one SMTP reply */

void
classify_reply(const char *reply, const char *command, const char *recipient,
	               CLASSIFY_RCPT *row)
{
	char	context[64];

	memset(row, 0, sizeof(*row));
	classify_copy(row->recipient, sizeof(row->recipient), recipient ? recipient : "");
	if (reply == 0)
		reply = "";
	classify_oneline(row->diagnostic, sizeof(row->diagnostic), reply, strlen(reply));
	/* The enhanced code follows the basic one and must agree with it. */
	if (!classify_find_status(row->diagnostic, row->status, sizeof(row->status))
	    || row->status[0] != reply[0]) {
		if (reply[0] == '4' || reply[0] == '5')
			snprintf(row->status, sizeof(row->status), "%c.0.0", reply[0]);
		else
			row->status[0] = 0;
	}
	snprintf(row->action, sizeof(row->action), "%s",
		 row->status[0] == '4' ? "delayed" : "failed");
	snprintf(context, sizeof(context), "in reply to %s command",
		 command && *command ? command : "end of DATA");
	classify_reason(row, context, 0, 0);
}

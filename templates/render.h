/*
 * render: the e-mails imi sends, built with GMime 3 in the recipient's
 * language.
 *
 * What it does: render_request turns a question set into an information
 * request e-mail: multipart/alternative with a text/plain part and a simple
 * text/html part (no external resources, no scripts), UTF-8, quoted-printable
 * where the text needs it.  The layout makes answering by reply obvious:
 * the intro, the instructions, then each question with its code
 * ("Q1. Is the diploma authentic? (yes / no)"), its choices listed under it,
 * an empty answer line ("Q1: ") to fill in, and the actions as mailto:
 * links with the subject filled in ("ACCEPT [IMI-2026-000123]"): one click
 * for accept and withdraw; for forward the replier adds the authority's
 * address in the body.  An action's catalog text may place the link itself
 * with %{action} ("send an e-mail to %{action}"); a text without it is a
 * label shown with the link.
 * render_notice builds a plain system notice (confirmation, error, reminder)
 * from catalog keys.
 *
 * Headers: From the service address, To the recipient, Reply-To the address
 * the caller gives (it carries the reply token; this module computes no
 * token), the caller's Message-ID (stable, so a retry never becomes a second
 * message), Subject RFC 2047-encoded with the case tag "[IMI-2026-000123]",
 * Auto-Submitted: auto-generated, X-Auto-Response-Suppress: All and
 * X-IMI-Loop: <service domain>.
 *
 * Output: the whole message as bytes with LF line ends (the outbox stores
 * LF; the SMTP sender turns them into CRLF on the wire).
 *
 * What it trusts: the question set and catalog (the operator's).  Every
 * other text may come from another party (authority names, notes, reasons)
 * and is treated as hostile: CR, LF and other control characters are
 * removed from anything that goes into a header, addresses must be plain
 * addr-specs (imi_email_valid), and in the HTML part every such text is
 * escaped.  Nothing a caller passes can add a header, a recipient or a MIME
 * boundary.
 *
 * How it fails: IMI_INVALID with a text naming the bad input (missing or
 * malformed address, case id, Message-ID, unknown action).
 */
#ifndef IMI_RENDER_H
#define IMI_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "templates/catalog.h"
#include "templates/qset.h"
#include "util/util.h"

/* Bounds on caller-supplied text. */
#define RENDER_MAX_HEADER_TEXT 512     /* a name, a subject value */
#define RENDER_MAX_BODY_TEXT (64 * 1024) /* a note or a free-text block */

/* Who the message is from and to; shared by every renderer. */
struct render_envelope {
	const char *from_address;   /* the service address, e.g. imi@imi.example.eu */
	const char *from_name;      /* display name, may be NULL */
	const char *to_address;     /* the recipient's address */
	const char *to_name;        /* may be NULL; hostile text allowed */
	const char *reply_to;       /* the reply address with the token; NULL: none */
	const char *message_id;     /* "local@domain", without <>; required */
	const char *in_reply_to;    /* Message-ID this answers, without <>; may be NULL */
	const char *service_domain; /* for X-IMI-Loop; required */
	int64_t date;               /* Date: header; 0 means imi_now() */
};

struct render_request {
	struct render_envelope env;
	const struct qset *qset;
	const struct catalog *catalog;
	const char *language;       /* the recipient's language; NULL: English */
	const char *case_id;        /* "IMI-2026-000123" ([A-Za-z0-9-]) */
	const char *title;          /* NULL: the set's title in the language */
	const char *authority;      /* the requesting authority's name (hostile) */
	const char *country;        /* its country (hostile) */
	const char *deadline;       /* "2026-12-31" or NULL; %{date}, written as the
				     * language writes dates ("31 décembre 2026") */
	const char *note;           /* free text of the requester (hostile), or NULL */
	/* Actions offered, NULL-terminated: "accept", "withdraw", "forward".
	 * NULL: none. */
	const char *const *actions;
	/* Parallel to actions: the address of each action's link (e.g. a
	 * reply address whose token names the action).  NULL, or a NULL
	 * entry: env.reply_to. */
	const char *const *action_addresses;
};

struct render_notice {
	struct render_envelope env;
	const struct catalog *catalog;
	const char *language;
	const char *case_id;        /* tag for the subject; NULL: no tag */
	const char *subject_key;    /* e.g. "confirm.subject" */
	const char *const *body_keys; /* paragraphs, NULL-terminated */
	const struct catalog_arg *args; /* placeholder values (hostile) */
	const char *body_text;      /* verbatim block after the paragraphs (hostile), or NULL */
};

int render_request(const struct render_request *in, char **message_r,
		   size_t *len_r, char **error_r);
int render_notice(const struct render_notice *in, char **message_r,
		  size_t *len_r, char **error_r);

/* Pieces the reply parser and the tests share with the renderer. */

/* "[IMI-2026-000123]" (g_free). */
char *render_case_tag(const char *case_id);
/* The question line as rendered, without the code: "Is ...? (yes / no)"
 * (g_free). */
char *render_question_line(const struct qset_question *q,
			   const struct catalog *catalog, const char *lang);
/* Copy with CR, LF and other control characters replaced by spaces and
 * runs of spaces collapsed, cut at max bytes on a character boundary
 * (g_free). */
char *render_header_text(const char *text, size_t max);
/* Forgets the From and To header lines kept for the senders and recipients
 * that come back (render.c); what is rendered next is the same, made
 * anew.  For a test's reference rendering; a process need not call it. */
void render_forget(void);

#endif

/*
 * mailcmd: commands by e-mail to the service address, for people without
 * the imi tool (docs/mailcommands.md).
 *
 * What it does: recognises a command in a message that carries no reply
 * token and names no case: the first word of the subject after "Re:",
 * "AW:" and like prefixes, any case, or (for mail clients that force a
 * subject of their own) the first non-empty line of the body.  Arguments
 * follow the command words on the same line, and as "key: value" lines in
 * the body.  It runs the command in the inbound transaction and answers
 * the sender, in the language of the sender's authority, through the
 * outbox of the same transaction:
 *   HELP [REQUEST set [authority] | ALERT set]  the commands; a request or
 *       alert form whose filled-in reply creates the request or alert
 *   STATUS                       the open cases of the sender's authority
 *   FIND words...                directory search
 * and for users with the role "coordinator", on authorities, users and
 * held mail of their own authority's country only:
 *   AUTHORITY ADD|UPDATE|DISABLE, USER ADD|DISABLE, ALERTS GRANT|REVOKE,
 *   SPF-ALIGNED authority on|off, HELD LIST|RELEASE n|DISCARD n.
 * A request form is a case of kind "request-form" (state "draft", its own
 * case key); the reply to it (token path of inbound.c) creates the
 * request through request_create, and the form is then "used" and its key
 * destroyed (replies kept before, sealed with it, become unreadable).
 *
 * How it fails: a refusal (unknown command, not a coordinator, another
 * country, unknown authority, user or message, malformed arguments) is not
 * an error: the sender gets a reply saying what was wrong and how to write
 * it, an audit entry records it, and nothing else changes.  Store errors
 * are returned as the store gives them (the whole inbound transaction is
 * retried).
 *
 * What it trusts: the authenticated user given by inbound.c (signature,
 * alignment, registration checked; held mail never reaches a command).
 * Nothing in the text: arguments are bounded (MAILCMD_MAX_*), checked by
 * directory_change.h, and reach mail only through render.h (escaped in
 * HTML, never in a header).
 */
#ifndef IMI_MAILCMD_H
#define IMI_MAILCMD_H

#include "parser/message.h"
#include "policies/request.h"
#include "store/store.h"

#define MAILCMD_MAX_LINES 200        /* body lines read for arguments */
#define MAILCMD_MAX_ARGS 64          /* key: value arguments kept */
#define MAILCMD_MAX_WORDS 16         /* words of the command line */
#define MAILCMD_MAX_LINE 1000        /* bytes of one argument line */
#define MAILCMD_MAX_FIND_RESULTS 25  /* authorities listed by FIND */
#define MAILCMD_MAX_STATUS 200       /* cases listed by STATUS */
#define MAILCMD_MAX_HELD 100         /* held messages listed by HELD LIST */
#define MAILCMD_MAX_SETS 50          /* question sets listed by HELP */

enum mailcmd_verb {
	MAILCMD_NONE,              /* not a command */
	MAILCMD_MALFORMED,         /* a command word, but not a whole command */
	MAILCMD_HELP,
	MAILCMD_STATUS,
	MAILCMD_FIND,
	MAILCMD_AUTHORITY_ADD,
	MAILCMD_AUTHORITY_UPDATE,
	MAILCMD_AUTHORITY_DISABLE,
	MAILCMD_USER_ADD,
	MAILCMD_USER_DISABLE,
	MAILCMD_ALERTS_GRANT,
	MAILCMD_ALERTS_REVOKE,
	MAILCMD_SPF_ALIGNED,
	MAILCMD_HELD_LIST,
	MAILCMD_HELD_RELEASE,
	MAILCMD_HELD_DISCARD,
};

struct mailcmd;

/* Parses subject (may be NULL) and body (the message's text, may be
 * NULL).  Always sets *cmd_r (mailcmd_free); its verb is MAILCMD_NONE when
 * neither names a command. */
void mailcmd_parse(const char *subject, const char *body, struct mailcmd **cmd_r);
void mailcmd_free(struct mailcmd **cmd);
enum mailcmd_verb mailcmd_verb(const struct mailcmd *cmd);
/* "AUTHORITY ADD", "HELP" (the canonical words; "" for MAILCMD_NONE). */
const char *mailcmd_name(const struct mailcmd *cmd);
/* The syntax of the command (or of its group when malformed), as shown
 * in refusals. */
const char *mailcmd_usage(const struct mailcmd *cmd);
/* Arguments after the command words, NULL-terminated. */
const char *const *mailcmd_words(const struct mailcmd *cmd);
/* The first value of a "key: value" line (key in lower case), or NULL;
 * mailcmd_values: all of them, NULL-terminated (g_free the array only). */
const char *mailcmd_value(const struct mailcmd *cmd, const char *key);
const char **mailcmd_values(const struct mailcmd *cmd, const char *key);
/* Coordinator command? */
int mailcmd_for_coordinators(enum mailcmd_verb verb);

/* What happened, for the caller's verdict and log line. */
struct mailcmd_outcome {
	int applied;      /* 1: something changed (or was created) */
	char *case_id;    /* a case created (request form), else NULL */
	char *reason;     /* one line, never personal data */
};
void mailcmd_outcome_clear(struct mailcmd_outcome *out);

/* inbound.c: a message without a token that names no case.  IMI_NOTFOUND
 * (no error text) when it holds no command; else runs it and answers. */
int mailcmd_inbound(struct store_txn *txn, struct request_env *env,
		    const struct parsed_message *msg, const struct user *user,
		    struct mailcmd_outcome *out, char **error_r);

/* Runs a parsed command for user (the sender); in_reply_to: the sender's
 * Message-ID or NULL. */
int mailcmd_run(struct store_txn *txn, struct request_env *env, const struct mailcmd *cmd,
		const struct user *user, const char *in_reply_to,
		struct mailcmd_outcome *out, char **error_r);

/* Request forms.  Is case_id a request form?  0 for anything else. */
int mailcmd_form_is(struct store_txn *txn, const char *case_id);
/* The filled-in form came back (token for the form's authority): creates
 * the request or tells the sender what is missing. */
int mailcmd_form_reply(struct store_txn *txn, struct request_env *env, const char *case_id,
		       const struct parsed_message *msg, const struct user *user,
		       struct mailcmd_outcome *out, char **error_r);

/* The open cases an authority is party to, one "ID<TAB>title<TAB>state<TAB>
 * YYYY-MM-DD" line each (g_free); *count_r: how many. */
int mailcmd_status_lines(struct store_txn *txn, struct request_env *env,
			 const struct authority *a, const char *lang, char **lines_r,
			 unsigned *count_r, char **error_r);

#endif

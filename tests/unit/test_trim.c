/*
 * test_trim.c: reply trimming on replies shaped like those real clients
 * write, in many languages, plain and HTML, and through the charsets and
 * transfer encodings a reply arrives in.
 */
#include "testutil.h"

#include "parser/message.h"
#include "parser/trim.h"

/* Like check_str, but goes on to the next case: every wrong case of a
 * table is named before the test fails. */
static int expect_str(const char *field, const char *got, const char *want)
{
	if (got != NULL && want != NULL && strcmp(got, want) == 0)
		return 0;
	print_error("%s: got \"%s\", want \"%s\"\n", field, got ? got : "(null)",
		    want ? want : "(null)");
	return 1;
}

#define FULL REPLY_TRIM_FULL
#define QUOTES REPLY_TRIM_QUOTES_ONLY

/* ---- bare bodies ---- */

struct body_case {
	const char *name;
	enum reply_trim_mode mode;
	const char *input;
	const char *want;
};

static const struct body_case body_cases[] = {
	/* English clients */
	{"gmail en", FULL,
	 "Yes, we confirm.\n\nOn Tue, 24 Nov 2026 at 10:02, IMI <imi@example.eu> wrote:\n\n> Q1: Do you confirm?\n> \n",
	 "Yes, we confirm."},
	{"gmail wrapped over two lines", FULL,
	 "Confirmed.\n\nOn Tue, Nov 24, 2026 at 10:02 AM Ministry of Labour <\nimi@example.eu> wrote:\n\n> Question\n",
	 "Confirmed."},
	{"attribution shares the reply line", QUOTES,
	 "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi",
	 "reply"},
	{"apple mail quoted attribution", FULL,
	 "Hello\n> On 22 Aug 2015, at 19:21, Adam <adam@example.com> wrote:\n>\n> Hi there!\n",
	 "Hello"},
	{"outlook en header block", FULL,
	 "Yes\n\n________________________________\nFrom: IMI <imi@example.eu>\nSent: Tuesday, November 24, 2026 10:02 AM\nTo: Jan Novak\nSubject: RE: Request 123\n\nPlease answer.\n",
	 "Yes"},
	{"outlook bold header block", FULL,
	 "Done.\n\n*From:* IMI [mailto:imi@example.eu]\n*Sent:* Tuesday, November 24, 2026 10:02 AM\n*To:* Jan\n*Subject:* Request\n\nText\n",
	 "Done."},
	{"original message rule", FULL,
	 "Agreed.\n\n-----Original Message-----\nFrom: IMI\nSent: Tuesday\n\nText\n",
	 "Agreed."},
	{"interleaved answers keep the new text", FULL,
	 "On Tue, 24 Nov 2026 at 10:02, IMI <imi@example.eu> wrote:\n> Q1: Is the company registered?\nYes, since 2019.\n\n> Q2: Number of employees?\n\n42\n\n> Q3: Anything else?\n",
	 "Yes, since 2019.\n\n42"},
	{"interleaved without attribution", FULL,
	 "> Q1: Is the company registered?\n> (in your register)\nYes.\n> Q2: Employees?\n42\n",
	 "Yes.\n42"},
	{"a lone quote-like line is text", QUOTES,
	 "Visit us now\n>>> >>>  http://www.example.com <<<\nVisit our site",
	 "Visit us now\n>>> >>>  http://www.example.com <<<\nVisit our site"},
	{"forwarded message is content", FULL,
	 "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@example.com>\nDate: Tue, 24 Nov 2026\nSubject: x\nTo: b@example.com\n\nText",
	 "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@example.com>\nDate: Tue, 24 Nov 2026\nSubject: x\nTo: b@example.com\n\nText"},
	{"unquoted history after attribution", FULL,
	 "Btw.\n\nOn Tue, Jan 27, 2015 at 12:42 PM, \"Company\" <c@example.com> wrote:\n\nHi Mark,\nBlah\n",
	 "Btw."},
	{"android dash attribution", FULL,
	 "Test reply\n\n---- John Smith wrote ----\n\n> quoted\n> text\n",
	 "Test reply"},
	/* the other EU languages */
	{"de thunderbird", FULL,
	 "Am 24.11.2026 um 10:02 schrieb IMI:\n> Frage 1\nAntwort eins\n",
	 "Antwort eins"},
	{"de outlook with signature", FULL,
	 "Ja, bestätigt.\n\nMit freundlichen Grüßen\nHans Müller\nLandratsamt\n\nVon: IMI <imi@example.eu>\nGesendet: Dienstag, 24. November 2026 10:02\nAn: Müller, Hans\nBetreff: Anfrage 123\n\nText\n",
	 "Ja, bestätigt."},
	{"de outlook quotes only keeps signature", QUOTES,
	 "Ja, bestätigt.\n\nMit freundlichen Grüßen\nHans Müller\nLandratsamt\n\nVon: IMI <imi@example.eu>\nGesendet: Dienstag, 24. November 2026 10:02\nAn: Müller, Hans\nBetreff: Anfrage 123\n\nText\n",
	 "Ja, bestätigt.\n\nMit freundlichen Grüßen\nHans Müller\nLandratsamt"},
	{"de original message", FULL,
	 "Ja\n\n-----Ursprüngliche Nachricht-----\nVon: IMI\n", "Ja"},
	{"fr gmail", FULL,
	 "Oui.\n\nLe mar. 24 nov. 2026 à 10:02, IMI <imi@example.eu> a écrit :\n\n> Question\n",
	 "Oui."},
	{"fr outlook", FULL,
	 "Oui.\n\nDe : IMI <imi@example.eu>\nEnvoyé : mardi 24 novembre 2026 10:02\nÀ : Dupont\nObjet : Demande\n\nTexte\n",
	 "Oui."},
	{"fr original message", FULL,
	 "Oui\n\n-----Message d'origine-----\nDe : IMI\n", "Oui"},
	{"es gmail", FULL,
	 "Sí.\n\nEl mar, 24 nov 2026 a las 10:02, IMI (<imi@example.eu>) escribió:\n> Pregunta\n",
	 "Sí."},
	{"es outlook", FULL,
	 "Sí.\n\nDe: IMI <imi@example.eu>\nEnviado el: martes, 24 de noviembre de 2026 10:02\nPara: García\nAsunto: Solicitud\n\nTexto\n",
	 "Sí."},
	{"it gmail", FULL,
	 "Sì.\n\nIl giorno mar 24 nov 2026 alle ore 10:02 IMI <imi@example.eu> ha scritto:\n> Domanda\n",
	 "Sì."},
	{"it outlook", FULL,
	 "Sì.\n\nDa: IMI [mailto:imi@example.eu]\nInviato: martedì 24 novembre 2026 10:02\nA: Rossi\nOggetto: Richiesta\n\nTesto\n",
	 "Sì."},
	{"pt gmail", FULL,
	 "Sim.\n\nEm ter., 24 de nov. de 2026 às 10:02, IMI <imi@example.eu> escreveu:\n> Pergunta\n",
	 "Sim."},
	{"nl gmail", FULL,
	 "Ja.\n\nOp di 24 nov. 2026 om 10:02 schreef IMI <imi@example.eu>:\n> Vraag\n",
	 "Ja."},
	{"nl outlook", FULL,
	 "Ja.\n\nVan: IMI <imi@example.eu>\nVerzonden: dinsdag 24 november 2026 10:02\nAan: Jansen\nOnderwerp: Verzoek\n\nTekst\n",
	 "Ja."},
	{"pl thunderbird", FULL,
	 "Tak.\n\nW dniu 24.11.2026 o 10:02, IMI pisze:\n> Pytanie\n", "Tak."},
	{"pl gmail", FULL,
	 "Tak.\n\nwt., 24 lis 2026 o 10:02 IMI <imi@example.eu> napisał(a):\n> Pytanie\n",
	 "Tak."},
	{"pl outlook", FULL,
	 "Tak.\n\nOd: IMI <imi@example.eu>\nWysłano: wtorek, 24 listopada 2026 10:02\nDo: Kowalski\nTemat: Wniosek\n\nTekst\n",
	 "Tak."},
	{"cs", FULL, "Ano.\n\nDne 24. 11. 2026 v 10:02 IMI napsal(a):\n> Otázka\n", "Ano."},
	{"sk", FULL, "Áno.\n\nDňa 24. 11. 2026 o 10:02 IMI napísal(a):\n> Otázka\n", "Áno."},
	{"sl", FULL, "Da.\n\nDne 24. 11. 2026 ob 10:02 je IMI napisal(a):\n> Vprašanje\n", "Da."},
	{"hr", FULL,
	 "Da.\n\n24. studenoga 2026. u 10:02 IMI <imi@example.eu> je napisao/la:\n> Pitanje\n",
	 "Da."},
	{"hu", FULL,
	 "Igen.\n\nIMI <imi@example.eu> ezt írta (időpont: 2026. nov. 24., K 10:02):\n> Kérdés\n",
	 "Igen."},
	{"ro", FULL,
	 "Da.\n\nÎn mar., 24 nov. 2026 la 10:02, IMI <imi@example.eu> a scris:\n> Întrebare\n",
	 "Da."},
	{"bg", FULL,
	 "Да.\n\nНа вт, 24.11.2026 г. в 10:02 ч. IMI <imi@example.eu> написа:\n> Въпрос\n",
	 "Да."},
	{"el", FULL,
	 "Ναι.\n\nΣτις Τρί 24 Νοε 2026 στις 10:02, ο/η IMI <imi@example.eu> έγραψε:\n> Ερώτηση\n",
	 "Ναι."},
	{"fi", FULL,
	 "Kyllä.\n\nIMI <imi@example.eu> kirjoitti ti 24.11.2026 klo 10.02:\n> Kysymys\n",
	 "Kyllä."},
	{"sv", FULL,
	 "Ja.\n\nDen tis 24 nov. 2026 kl 10:02 skrev IMI <imi@example.eu>:\n> Fråga\n", "Ja."},
	{"sv outlook", FULL,
	 "Ja.\nFrån: IMI [mailto:imi@example.eu]\nSkickat: den 24 november 2026 10:02\nTill: Svensson\nÄmne: Begäran\n\nText\n",
	 "Ja."},
	{"da", FULL,
	 "Ja.\n\nDen tir. 24. nov. 2026 kl. 10.02 skrev IMI <imi@example.eu>:\n> Spørgsmål\n",
	 "Ja."},
	{"et", FULL,
	 "Jah.\n\nIMI <imi@example.eu> kirjutas kuupäeval T, 24. november 2026 kell 10:02:\n> Küsimus\n",
	 "Jah."},
	{"lv", FULL,
	 "Jā.\n\notrd., 2026. g. 24. nov., plkst. 10:02 — lietotājs IMI (<imi@example.eu>) rakstīja:\n> Jautājums\n",
	 "Jā."},
	{"lt", FULL, "Taip.\n\n2026-11-24, an, 10:02, IMI <imi@example.eu> rašė:\n> Klausimas\n", "Taip."},
	{"mt", FULL,
	 "Iva.\n\nFit-Tlieta, 24 ta' Novembru 2026, IMI <imi@example.eu> kiteb:\n> Mistoqsija\n",
	 "Iva."},
	{"ga", FULL,
	 "Tá.\n\nAr Máirt 24 Samh 2026 ag 10:02, scríobh IMI <imi@example.eu>:\n> Ceist\n",
	 "Tá."},
	/* signatures */
	{"rfc signature", FULL, "Yes.\n\n-- \nJan Novák\nMinistry\n", "Yes."},
	{"rfc signature kept in quotes-only", QUOTES, "Yes.\n\n-- \nJan Novák\nMinistry\n",
	 "Yes.\n\n-- \nJan Novák\nMinistry"},
	{"closing formula", FULL, "Yes, confirmed.\n\nKind regards,\nJan Novak\nMinistry of Labour\n",
	 "Yes, confirmed."},
	{"closing formula fr", FULL, "C'est fait.\n\nCordialement,\nMarie Dupont\n", "C'est fait."},
	{"dash name", FULL, "Blah.\n\n-Lev.\n", "Blah."},
	{"bullets are not a signature", FULL, "List:\n\n - one item\n - and another\n",
	 "List:\n\n - one item\n - and another"},
	{"iphone", FULL, "Here is another email\n\nSent from my iPhone\n", "Here is another email"},
	{"iphone fr", FULL, "Oui.\n\nEnvoyé de mon iPhone\n", "Oui."},
	{"iphone de", FULL, "Ja\n\nVon meinem iPhone gesendet\n", "Ja"},
	{"iphone es", FULL, "Sí\n\nEnviado desde mi iPhone\n", "Sí"},
	{"iphone pl", FULL, "Tak\n\nWysłane z iPhone'a\n", "Tak"},
	{"outlook android", FULL, "Yes\n\nGet Outlook for Android\n", "Yes"},
	{"blackberry", FULL, "Here is another email\n\nSent from my Verizon Wireless BlackBerry\n",
	 "Here is another email"},
	{"not a mobile signature", FULL,
	 "Here is another email\n\nSent from my desk, is much easier then my mobile phone.\n",
	 "Here is another email\n\nSent from my desk, is much easier then my mobile phone."},
	{"a message that is only thanks stays", FULL, "Thanks!\n", "Thanks!"},
	{"signature then quote", FULL,
	 "Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:\n\n> Hi\n",
	 "Hello"},
	{"a period is not a header block", FULL,
	 "Q2: the contract ran\nFrom: 01.01.2019\nTo: 31.12.2019\nQ3: yes\n",
	 "Q2: the contract ran\nFrom: 01.01.2019\nTo: 31.12.2019\nQ3: yes"},
	{"from and to alone are no history", FULL,
	 "Who sent it?\nFrom: the regional office\nTo: the ministry\n",
	 "Who sent it?\nFrom: the regional office\nTo: the ministry"},
	{"answers by code survive a closing formula", FULL,
	 "Q1: yes\n\nThanks,\nQ2: no\n", "Q1: yes\n\nThanks,\nQ2: no"},
	{"signature below the answers goes", FULL,
	 "Q1: yes\nQ2: no\n\nS pozdravem\nJan Novák\nMinisterstvo\n", "Q1: yes\nQ2: no"},
	{"samsung original message sv", FULL,
	 "Ja.\n\n-------- Originalmeddelande --------\nFrån: IMI <imi@example.eu>\n", "Ja."},
	{"bg outlook", FULL,
	 "Да.\n\nОт: IMI <imi@example.eu>\nИзпратено: вторник, 24 ноември 2026 10:02\nДо: Иванов\nОтносно: Запитване\n\nТекст\n",
	 "Да."},
	{"el outlook", FULL,
	 "Ναι.\n\nΑπό: IMI <imi@example.eu>\nΑπεστάλη: Τρίτη, 24 Νοεμβρίου 2026 10:02\nΠρος: Παπαδόπουλος\nΘέμα: Αίτημα\n\nΚείμενο\n",
	 "Ναι."},
	{"cs outlook", FULL,
	 "Ano.\n\nOd: IMI <imi@example.eu>\nOdesláno: úterý 24. listopadu 2026 10:02\nKomu: Novák\nPředmět: Žádost\n\nText\n",
	 "Ano."},
	{"hu outlook", FULL,
	 "Igen.\n\nFeladó: IMI <imi@example.eu>\nKüldve: 2026. november 24. 10:02\nCímzett: Kovács\nTárgy: Kérés\n\nSzöveg\n",
	 "Igen."},
	{"ro outlook", FULL,
	 "Da.\n\nDe la: IMI <imi@example.eu>\nTrimis: marți, 24 noiembrie 2026 10:02\nCătre: Popescu\nSubiect: Cerere\n\nText\n",
	 "Da."},
	{"pl apple mail", FULL,
	 "Tak.\n\nWiadomość napisana przez IMI <imi@example.eu> w dniu 24.11.2026, o godz. 10:02:\n\n> Pytanie\n",
	 "Tak."},
	{"cs apple mail without verb", FULL,
	 "Ano.\n\n24. 11. 2026 v 10:02, IMI <imi@example.eu>:\n\n> Otázka\n", "Ano."},
	{"pt gmail europe", FULL,
	 "Sim.\n\nIMI <imi@example.eu> escreveu no dia terça, 24/11/2026 à(s) 10:02:\n\n> Pergunta\n",
	 "Sim."},
	{"lotus notes", FULL,
	 "Yes.\n\nIMI/Commission/EU wrote on 24.11.2026 10:02:\n\nQuestion 1\n", "Yes."},
	{"polish yes is no signature", FULL,
	 "Dzień dobry,\nTak\nNie\n12\n", "Dzień dobry,\nTak\nNie\n12"},
	{"prose with sent and a date is no attribution", FULL,
	 "The documents were sent on 12.03.2026:\nthe licence\nthe register extract\n",
	 "The documents were sent on 12.03.2026:\nthe licence\nthe register extract"},
	{"subject and date in an answer are no history", FULL,
	 "Decision\nSubject: licence renewal\nDate: 12 March 2026\nOutcome: granted\n",
	 "Decision\nSubject: licence renewal\nDate: 12 March 2026\nOutcome: granted"},
	{"a rule above content is no signature", FULL,
	 "Details:\n-----\nline one\nline two\nline three\nline four\nline five\nline six\nline seven\n",
	 "Details:\n-----\nline one\nline two\nline three\nline four\nline five\nline six\nline seven"},
	{"prose with an opening word and a verb stays", FULL,
	 "Our answer:\nOn the other hand, the applicant wrote:\nwe never received it.\n",
	 "Our answer:\nOn the other hand, the applicant wrote:\nwe never received it."},
	{"empty", FULL, "", ""},
	{"only blank lines", FULL, "\n \n\t\n", ""},
	{"crlf already normalized text keeps lines", QUOTES, "a\nb\n\nc", "a\nb\n\nc"},
};

static void test_trim_bodies(void **state)
{
	int wrong = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(body_cases); i++) {
		const struct body_case *c = &body_cases[i];
		char *got = NULL, *error = NULL, *field;
		int ret = reply_trim(c->input, strlen(c->input), SIZE_MAX, 0, c->mode, &got, &error);

		field = g_strdup_printf("%s: status", c->name);
		check_int(field, ret, IMI_OK);
		g_free(field);
		field = g_strdup_printf("%s: text", c->name);
		wrong += expect_str(field, got, c->want);
		g_free(field);
		g_free(got);
		g_free(error);
	}
	check_int("wrong cases", wrong, 0);
}

static void test_trim_history_offset_and_marked_quotes(void **state)
{
	const char *text = "Answer\n\nsome history\n";
	char *got = NULL, *error = NULL;

	check_int("offset status", reply_trim(text, strlen(text), 8, 0, FULL, &got, &error), IMI_OK);
	check_str("offset cut", got, "Answer");
	g_free(got);
	text = "message\n> Quote\ndisclaimer";
	check_int("marked status", reply_trim(text, strlen(text), SIZE_MAX, 1, QUOTES, &got, &error),
		  IMI_OK);
	check_str("marked single quote", got, "message\ndisclaimer");
	g_free(got);
	check_int("unmarked status", reply_trim(text, strlen(text), SIZE_MAX, 0, QUOTES, &got, &error),
		  IMI_OK);
	check_str("unmarked single quote", got, "message\n> Quote\ndisclaimer");
	g_free(got);
}

/* A long quote must not make the work quadratic: 200,000 quoted lines are
 * trimmed in well under a second. */
static void test_trim_long_quote_is_linear(void **state)
{
	GString *s = g_string_new("Answer\n\nOn Tue, 24 Nov 2026 at 10:02, IMI <imi@example.eu> wrote:\n");
	char *got = NULL, *error = NULL;
	gint64 start;

	for (int i = 0; i < 200000; i++)
		g_string_append(s, "> a quoted line of an old message, long enough to matter\n");
	start = g_get_monotonic_time();
	check_int("status", reply_trim(s->str, s->len, SIZE_MAX, 0, FULL, &got, &error), IMI_OK);
	check_str("text", got, "Answer");
	if (g_get_monotonic_time() - start > 2 * G_USEC_PER_SEC)
		fail_msg("trimming 200000 quoted lines took %lld us",
			 (long long)(g_get_monotonic_time() - start));
	g_free(got);
	g_string_free(s, TRUE);
}

/* ---- whole messages: HTML clients, charsets, transfer encodings ---- */

struct message_case {
	const char *name;
	enum reply_trim_mode mode;
	const char *input;
	const char *want;
};

#define HDR "From: Jan <jan@example.org>\nTo: imi@example.eu\nSubject: Re: Request\nMessage-ID: <a@example.org>\nMIME-Version: 1.0\n"

static const struct message_case message_cases[] = {
	{"outlook html border division", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<html><body><div class=WordSection1><p class=MsoNormal>Yes, confirmed.<o:p></o:p></p>"
	 "<p class=MsoNormal>&nbsp;</p><p class=MsoNormal>Kind regards</p><p class=MsoNormal>Jan</p>"
	 "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
	 "<p class=MsoNormal><b>From:</b> IMI<br><b>Sent:</b> Tuesday<br><b>To:</b> Jan</p></div>"
	 "<p class=MsoNormal>Question 1</p></div></body></html>\n",
	 "Yes, confirmed."},
	{"outlook web divRplyFwdMsg in german", QUOTES,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<div>Ja, wir bestätigen.</div><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">"
	 "<div id=\"divRplyFwdMsg\" dir=\"ltr\"><font><b>Von:</b> IMI<br><b>Gesendet:</b> Dienstag</font></div>"
	 "<div>Frage 1</div>\n",
	 "Ja, wir bestätigen."},
	{"gmail html", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<div dir=\"ltr\">Oui.</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
	 "Le mar. 24 nov. 2026 à 10:02, IMI &lt;imi@example.eu&gt; a écrit&nbsp;:<br></div>"
	 "<blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex\">Question</blockquote></div>\n",
	 "Oui."},
	{"apple mail html", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<html><body>Ja<br><div><br><blockquote type=\"cite\"><div>Am 24.11.2026 um 10:02 schrieb IMI:</div>"
	 "<div>Frage</div></blockquote></div></body></html>\n",
	 "Ja"},
	{"thunderbird html", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<html><body><p>Tak.</p><div class=\"moz-cite-prefix\">W dniu 24.11.2026 o 10:02, IMI pisze:<br></div>"
	 "<blockquote type=\"cite\">Pytanie</blockquote></body></html>\n",
	 "Tak."},
	{"yahoo html", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<html><body><div>Sí.</div><div id=\"yahoo_quoted_1\" class=\"yahoo_quoted\"><div>"
	 "El martes, 24 de noviembre de 2026 10:02, IMI escribió:</div><div>Pregunta 1</div></div></body></html>\n",
	 "Sí."},
	{"gmail html signature", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<div dir=\"ltr\">Yes, confirmed.<br clear=\"all\"><div><br></div>-- <br><div dir=\"ltr\" "
	 "class=\"gmail_signature\" data-smartmail=\"gmail_signature\">Jan Novak<br>Ministry</div></div>\n",
	 "Yes, confirmed."},
	{"outlook web signature division", FULL,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<div>Ja.</div><div id=\"Signature\"><p>Hans M\xC3\xBCller</p><p>Landratsamt</p></div>\n",
	 "Ja."},
	{"outlook web signature kept in quotes-only", QUOTES,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<div>Ja.</div><div id=\"Signature\"><p>Hans</p></div>\n",
	 "Ja.\n-- \n\nHans"},
	{"html list and paragraphs", QUOTES,
	 HDR "Content-Type: text/html; charset=utf-8\n\n"
	 "<p>Answers:</p><ul><li>Q1: yes</li><li>Q2: no</li></ul><ol><li>first</li><li>second</li></ol><p>End</p>\n",
	 "Answers:\n\n- Q1: yes\n- Q2: no\n1. first\n2. second\n\nEnd"},
	{"alternative prefers the plain part", FULL,
	 HDR "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=us-ascii\n\n"
	 "Plain answer\n\nOn Tue, 24 Nov 2026 at 10:02, IMI <imi@example.eu> wrote:\n> Q\n"
	 "--b\nContent-Type: text/html\n\n<p>Html answer</p>\n--b--\n",
	 "Plain answer"},
	{"iso-8859-2 quoted-printable", FULL,
	 HDR "Content-Type: text/plain; charset=ISO-8859-2\nContent-Transfer-Encoding: quoted-printable\n\n"
	 "Za=BF=F3=B3=E6 g=EA=B6l=B1 ja=BC=F1.\n\nW dniu 24.11.2026 o 10:02, IMI pisze:\n> Pytanie\n",
	 "Zażółć gęślą jaźń."},
	{"windows-1250 8bit", FULL,
	 HDR "Content-Type: text/plain; charset=windows-1250\nContent-Transfer-Encoding: 8bit\n\n"
	 "D\xEC" "kuji, souhlas\xED" "me.\n", "Děkuji, souhlasíme."},
	{"windows-1252 8bit", FULL,
	 HDR "Content-Type: text/plain; charset=windows-1252\n\n"
	 "Gr\xFC\xDF" "e aus K\xF6" "ln \x96 5 \x80\n", "Grüße aus Köln – 5 €"},
	{"latin-1 labelled as us-ascii", FULL,
	 HDR "Content-Type: text/plain; charset=us-ascii\n\nGr\xFC\xDF" "e\n", "Grüße"},
	{"koi8-r base64", FULL,
	 HDR "Content-Type: text/plain; charset=KOI8-R\nContent-Transfer-Encoding: base64\n\n"
	 "5MEsINDPxNTXxdLWxMHFzS4=\n", "Да, подтверждаем."},
	{"utf-16 with bom base64", FULL,
	 HDR "Content-Type: text/plain; charset=UTF-16\nContent-Transfer-Encoding: base64\n\n"
	 "//5IAGEAbABsAG8AIABXAGUAbAB0ACwAIABTAHQAcgBhAN8AZQAuAA==\n", "Hallo Welt, Straße."},
	{"utf-8 base64 with quote", FULL,
	 HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	 "SmEsIHdpciBiZXN0w6R0aWdlbi4KCkFtIDI0LjExLjIwMjYgdW0gMTA6MDIgc2NocmllYiBJTUkgPGltaUBl\n"
	 "eGFtcGxlLmV1PjoKPiBGcmFnZSAx\n",
	 "Ja, wir bestätigen."},
	{"base64 with garbage characters", QUOTES,
	 HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	 "SGVsbG8g!!V29y#bGQ=\n", "Hello World"},
	/* GMime's decoder keeps an unfinished last group to itself: what
	 * comes out is every complete group, and no error. */
	{"base64 cut short", QUOTES,
	 HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	 "SGVsbG8gV29ybGQ\n", "Hello Wor"},
	{"unknown charset falls back", FULL,
	 HDR "Content-Type: text/plain; charset=x-no-such-charset\n\nNa\xC3\xAFve\n", "Naïve"},
	{"invalid utf-8 is replaced", QUOTES,
	 HDR "Content-Type: text/plain; charset=utf-8\n\ncaf\xC3\xA9 \xFF ok\n", "café \xEF\xBF\xBD ok"},
	{"format=flowed is joined", FULL,
	 HDR "Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
	 "This answer was wrapped by \nthe client.\n\nOn Tue, 24 Nov 2026 at 10:02, IMI wrote:\n> a quoted \n> question\n",
	 "This answer was wrapped by the client."},
};

static void test_trim_messages(void **state)
{
	int wrong = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(message_cases); i++) {
		const struct message_case *c = &message_cases[i];
		struct parsed_message *msg = NULL;
		char *got = NULL, *error = NULL, *field;
		int ret = parsed_message_read(c->input, strlen(c->input), NULL, &msg, &error);

		field = g_strdup_printf("%s: read status (%s)", c->name, error ? error : "");
		check_int(field, ret, IMI_OK);
		g_free(field);
		ret = reply_trim_message(msg, c->mode, &got, &error);
		field = g_strdup_printf("%s: trim status", c->name);
		check_int(field, ret, IMI_OK);
		g_free(field);
		field = g_strdup_printf("%s: text", c->name);
		wrong += expect_str(field, got, c->want);
		g_free(field);
		g_free(got);
		parsed_message_free(&msg);
	}
	check_int("wrong cases", wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_bodies),
		cmocka_unit_test(test_trim_history_offset_and_marked_quotes),
		cmocka_unit_test(test_trim_long_quote_is_linear),
		cmocka_unit_test(test_trim_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * trim.c: reply trimming; see trim.h.
 *
 * Phases of reply_trim:
 *   1. split the text into lines (bound: REPLY_TRIM_MAX_LINES), splitting a
 *      line where a reply and its attribution share it;
 *   2. classify each line: blank, quoted, attribution range, Outlook
 *      history start (original-message rule or header block), forward mark;
 *   3. top-down pass that drops quoted blocks and histories;
 *   4. (full mode) the signature at the end of what is left;
 *   5. join, without leading empty lines and trailing white space.
 * Words are compared case-folded (g_utf8_casefold), only on the few lines
 * whose shape makes them candidates, so the cost stays linear.
 */
#include "parser/trim.h"
#include "parser/message.h"

#include <string.h>

/* Bounds of the line windows looked at (all small and fixed). */
#define ATTRIBUTION_MAX_LINES 5   /* an attribution wraps over at most this many */
#define ATTRIBUTION_MAX_BYTES 600 /* longer than this is prose, not an attribution */
#define HEADER_BLOCK_MAX_LINES 10 /* lines read for one Outlook header block */
#define SIGNATURE_SCAN_LINES 15   /* non-empty lines from the end searched for a signature */
#define FOLD_PREFIX_BYTES 48      /* bytes of a line folded to recognize a field name */

/* ---- word tables (case-folded at first use) ---- */

/* Verbs of an attribution line: "<name> wrote:", in the 24 EU languages
 * and Norwegian, Russian, Ukrainian, Vietnamese. */
static const char *verbs[] = {
	"wrote", "writes", "sent",                       /* en ("sent": see weak_verbs) */
	"schrieb", "geschrieben",                        /* de */
	"écrit", "ecrit",                                /* fr */
	"escribió", "escribio",                          /* es */
	"scritto",                                       /* it */
	"escreveu",                                      /* pt */
	"schreef", "geschreven",                         /* nl */
	"napisał", "napisała", "napisał(a)", "pisze", "napisana", /* pl */
	"skrev",                                         /* sv da no */
	"kirjoitti",                                     /* fi */
	"napsal", "napsala", "napsal(a)",                /* cs */
	"napísal", "napísala", "napísal(a)",             /* sk */
	"napisal", "napisala", "napisal(a)",             /* sl */
	"napisao", "napisao/la",                         /* hr */
	"írta",                                          /* hu */
	"scris",                                         /* ro */
	"написа",                                        /* bg */
	"έγραψε",                                        /* el */
	"kirjutas",                                      /* et */
	"rakstīja",                                      /* lv */
	"rašė",                                          /* lt */
	"kiteb",                                         /* mt */
	"scríobh",                                       /* ga */
	"написал", "написала", "написал(а)", "пишет", "написав", /* ru uk */
	"viết",                                          /* vi */
	NULL};

/* Verbs common in prose: they make an attribution only after an opening
 * word ("On ... sent:") or right above a quote. */
static const char *weak_verbs[] = {"sent", "writes", NULL};

/* Words an attribution opens with ("On ...", "Am ...", "Le ..."). */
static const char *openers[] = {
	"on", "am", "le", "el", "il", "em", "op", "w dniu", "den", "dne", "dňa",
	"на", "στις", "în", "ar", "pe", "kun", "vào", "på", "dana", "dnia",
	"il giorno", "el día", "el dia", "le lundi", NULL};

/* Outlook's separator before a quoted original ("-----Original
 * Message-----"), compared without the dashes. */
static const char *original_message[] = {
	"original message", "reply message", "ursprüngliche nachricht",
	"antwort nachricht", "originalnachricht", "message d'origine",
	"message original", "mensaje original", "messaggio originale",
	"mensagem original", "oorspronkelijk bericht", "origineel bericht",
	"wiadomość oryginalna", "oryginalna wiadomość", "ursprungligt meddelande",
	"oprindelig meddelelse", "oprindelig besked", "originalmeddelande",
	"opprinnelig melding", "alkuperäinen viesti",
	"původní zpráva", "pôvodná správa", "izvirno sporočilo",
	"izvorna poruka", "originalna poruka", "eredeti üzenet", "mesaj original",
	"mesajul original", "оригинално съобщение", "αρχικό μήνυμα",
	"algne sõnum", "sākotnējais ziņojums", "sākotnējā ziņa",
	"oriģinālā ziņa", "originalus laiškas",
	"originalus pranešimas", "pradinis laiškas", "messaġġ oriġinali",
	"bunteachtaireacht", "исходное сообщение", "оригінальне повідомлення", NULL};

/* Forwarded-message marks: what follows is content. */
static const char *forwarded[] = {
	"forwarded message", "begin forwarded message", "forwarded message follows",
	"weitergeleitete nachricht", "message transféré", "message transfere",
	"début du message réexpédié", "mensaje reenviado", "messaggio inoltrato",
	"mensagem encaminhada", "doorgestuurd bericht", "przekazana wiadomość",
	"wiadomość przekazana dalej", "vidarebefordrat meddelande",
	"videresendt meddelelse", "videresendt melding", "välitetty viesti",
	"přeposlaná zpráva", "preposlaná správa", "posredovano sporočilo",
	"proslijeđena poruka", "továbbított üzenet", "mesaj redirecționat",
	"mesaj redirectionat", "препратено съобщение", "προωθημένο μήνυμα",
	"edastatud kiri", "pārsūtīts ziņojums", "persiųstas laiškas",
	"messaġġ mibgħut", "teachtaireacht ar aghaidh", "пересылаемое сообщение", NULL};

enum field_kind { FIELD_NONE, FIELD_FROM, FIELD_DATE, FIELD_TO, FIELD_CC, FIELD_SUBJECT, FIELD_COUNT };

/* Field names of the header block Outlook and webmails put above an
 * unquoted original, per kind. */
static const struct field_name {
	const char *name;
	enum field_kind kind;
} field_names[] = {
	{"from", FIELD_FROM}, {"von", FIELD_FROM}, {"de", FIELD_FROM}, {"da", FIELD_FROM},
	{"van", FIELD_FROM}, {"od", FIELD_FROM}, {"från", FIELD_FROM}, {"fra", FIELD_FROM},
	{"lähettäjä", FIELD_FROM}, {"pošiljatelj", FIELD_FROM}, {"šalje", FIELD_FROM},
	{"feladó", FIELD_FROM}, {"de la", FIELD_FROM}, {"от", FIELD_FROM}, {"από", FIELD_FROM},
	{"saatja", FIELD_FROM}, {"kellelt", FIELD_FROM}, {"no", FIELD_FROM},
	{"sūtītājs", FIELD_FROM}, {"nuo", FIELD_FROM}, {"siuntėjas", FIELD_FROM},
	{"minn", FIELD_FROM}, {"ó", FIELD_FROM}, {"afzender", FIELD_FROM},
	{"remitente", FIELD_FROM}, {"expéditeur", FIELD_FROM}, {"mittente", FIELD_FROM},
	{"sent", FIELD_DATE}, {"date", FIELD_DATE}, {"gesendet", FIELD_DATE},
	{"datum", FIELD_DATE}, {"envoyé", FIELD_DATE}, {"enviado", FIELD_DATE},
	{"enviada", FIELD_DATE}, {"fecha", FIELD_DATE}, {"inviato", FIELD_DATE},
	{"data", FIELD_DATE}, {"verzonden", FIELD_DATE}, {"wysłano", FIELD_DATE},
	{"wysłane", FIELD_DATE}, {"skickat", FIELD_DATE}, {"sendt", FIELD_DATE},
	{"dato", FIELD_DATE}, {"lähetetty", FIELD_DATE}, {"päivämäärä", FIELD_DATE},
	{"odesláno", FIELD_DATE}, {"odoslané", FIELD_DATE}, {"dátum", FIELD_DATE},
	{"poslano", FIELD_DATE}, {"poslato", FIELD_DATE}, {"elküldve", FIELD_DATE},
	{"küldve", FIELD_DATE}, {"trimis", FIELD_DATE}, {"изпратено", FIELD_DATE},
	{"дата", FIELD_DATE}, {"στάλθηκε", FIELD_DATE}, {"ημερομηνία", FIELD_DATE},
	{"saadetud", FIELD_DATE}, {"kuupäev", FIELD_DATE}, {"nosūtīts", FIELD_DATE},
	{"datums", FIELD_DATE}, {"išsiųsta", FIELD_DATE}, {"mibgħut", FIELD_DATE},
	{"seolta", FIELD_DATE}, {"dáta", FIELD_DATE}, {"отправлено", FIELD_DATE},
	{"envoyé le", FIELD_DATE}, {"enviado el", FIELD_DATE}, {"verstuurd", FIELD_DATE},
	{"to", FIELD_TO}, {"an", FIELD_TO}, {"à", FIELD_TO}, {"a", FIELD_TO}, {"para", FIELD_TO},
	{"aan", FIELD_TO}, {"do", FIELD_TO}, {"till", FIELD_TO}, {"til", FIELD_TO},
	{"vastaanottaja", FIELD_TO}, {"komu", FIELD_TO}, {"za", FIELD_TO}, {"prima", FIELD_TO},
	{"címzett", FIELD_TO}, {"către", FIELD_TO}, {"catre", FIELD_TO}, {"до", FIELD_TO},
	{"προς", FIELD_TO}, {"adressaat", FIELD_TO}, {"kellele", FIELD_TO}, {"kam", FIELD_TO},
	{"kam", FIELD_TO}, {"gavėjas", FIELD_TO}, {"lil", FIELD_TO}, {"chuig", FIELD_TO},
	{"кому", FIELD_TO}, {"destinataire", FIELD_TO}, {"destinatario", FIELD_TO},
	{"cc", FIELD_CC}, {"kopie", FIELD_CC}, {"kopia", FIELD_CC}, {"kopio", FIELD_CC},
	{"kópia", FIELD_CC}, {"kopija", FIELD_CC}, {"másolat", FIELD_CC}, {"копие", FIELD_CC},
	{"κοιν", FIELD_CC}, {"koopia", FIELD_CC}, {"копия", FIELD_CC}, {"cci", FIELD_CC},
	{"subject", FIELD_SUBJECT}, {"betreff", FIELD_SUBJECT}, {"objet", FIELD_SUBJECT},
	{"asunto", FIELD_SUBJECT}, {"oggetto", FIELD_SUBJECT}, {"assunto", FIELD_SUBJECT},
	{"onderwerp", FIELD_SUBJECT}, {"temat", FIELD_SUBJECT}, {"ämne", FIELD_SUBJECT},
	{"emne", FIELD_SUBJECT}, {"aihe", FIELD_SUBJECT}, {"předmět", FIELD_SUBJECT},
	{"predmet", FIELD_SUBJECT}, {"zadeva", FIELD_SUBJECT}, {"tárgy", FIELD_SUBJECT},
	{"subiect", FIELD_SUBJECT}, {"тема", FIELD_SUBJECT}, {"θέμα", FIELD_SUBJECT},
	{"teema", FIELD_SUBJECT}, {"tēma", FIELD_SUBJECT}, {"tema", FIELD_SUBJECT},
	{"suġġett", FIELD_SUBJECT}, {"ábhar", FIELD_SUBJECT}, {"sujet", FIELD_SUBJECT},
	{"относно", FIELD_SUBJECT}, {"απεστάλη", FIELD_DATE}, {"odesílatel", FIELD_FROM},
	{NULL, FIELD_NONE}};

/* Closing formulas that open a signature when only short lines follow. */
static const char *closings[] = {
	"regards", "best regards", "kind regards", "warm regards", "best wishes",
	"many thanks", "thanks", "thank you", "thanks in advance", "thanks again",
	"cheers", "sincerely", "yours sincerely", "yours faithfully", "yours truly",
	"all the best", "best", "br", "rgds", "kr", "with regards", "with kind regards",
	"mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße",
	"freundliche grüsse", "viele grüße", "viele grüsse", "beste grüße", "beste grüsse",
	"liebe grüße", "herzliche grüße", "schöne grüße", "grüße", "grüsse", "gruß", "gruss",
	"mfg", "lg", "vg", "danke", "vielen dank",
	"cordialement", "bien cordialement", "bien à vous", "salutations",
	"sincères salutations", "meilleures salutations", "merci", "merci beaucoup",
	"bonne journée", "amicalement",
	"saludos", "un saludo", "saludos cordiales", "un cordial saludo", "atentamente",
	"gracias", "muchas gracias", "cordialmente",
	"cordiali saluti", "distinti saluti", "saluti", "un saluto", "grazie", "grazie mille",
	"cumprimentos", "melhores cumprimentos", "com os melhores cumprimentos",
	"atenciosamente", "obrigado", "obrigada", "abraço", "abraços",
	"met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet",
	"vriendelijke groeten", "groeten", "groet", "hartelijke groet", "bedankt", "mvg",
	"pozdrawiam", "z poważaniem", "serdecznie pozdrawiam", "z wyrazami szacunku",
	"dziękuję", "dzięki",
	"med vänliga hälsningar", "vänliga hälsningar", "hälsningar", "mvh", "tack",
	/* not "tak": Danish thanks, but Polish yes */
	"med venlig hilsen", "venlig hilsen", "hilsen", "bedste hilsner",
	"ystävällisin terveisin", "terveisin", "parhain terveisin", "kiitos", "yst. terv",
	"s pozdravem", "s přátelským pozdravem", "děkuji", "díky", "pozdrav",
	"s pozdravom", "s úctou", "ďakujem", "pozdravujem",
	"lep pozdrav", "lp", "hvala", "s spoštovanjem", "lepo pozdravljeni",
	"srdačan pozdrav", "lijep pozdrav", "s poštovanjem", "srdačno",
	"üdvözlettel", "tisztelettel", "köszönöm", "köszönettel", "üdv",
	"cu stimă", "cu stima", "cu respect", "mulțumesc", "multumesc", "toate cele bune",
	"salutări", "cu bine",
	"поздрави", "с уважение", "благодаря", "поздрав",
	"με εκτίμηση", "ευχαριστώ", "φιλικά", "χαιρετισμούς", "με φιλικούς χαιρετισμούς",
	"lugupidamisega", "parimate soovidega", "tänan", "tervitades", "tervitustega",
	"ar cieņu", "paldies", "ar labiem vēlējumiem", "sveicieni",
	"pagarbiai", "ačiū", "linkėjimai", "su pagarba", "geriausi linkėjimai",
	"grazzi", "tislijiet", "saħħa",
	"le meas", "go raibh maith agat", "slán", "le dea-mhéin",
	NULL};

/* Openings of a mobile or app signature ("Sent from my iPhone"). */
static const char *mobile_openings[] = {
	"sent from", "sent wirelessly from", "sent with", "sent via", "sent using",
	"sent on the go", "get outlook for", "von meinem", "gesendet von", "mobil gesendet",
	"envoyé de", "envoyé depuis", "envoyé à partir de", "envoyé sans fil par",
	"enviado desde", "enviado do", "enviado de", "enviado con", "inviato da",
	"verzonden vanaf", "verzonden met", "verstuurd vanaf", "verstuurd vanaf mijn",
	"wysłane z", "wysłano z", "skickat från", "sendt fra", "lähetetty",
	"odesláno z", "odoslané z", "poslano iz", "poslano z", "poslano s", "poslato sa",
	"trimis de pe", "trimis de", "trimis din", "изпратено от", "στάλθηκε από",
	"saadetud", "nosūtīts no", "išsiųsta iš", "mibgħut minn", "mibgħut mill",
	"seolta ó", "seolta ón", "küldve", "elküldve", "iphone-ról küldve",
	"отправлено с", "надіслано з", NULL};

/* Devices and apps of mobile signatures. */
static const char *mobile_devices[] = {
	"iphone", "ipad", "blackberry", "android", "samsung", "galaxy", "huawei",
	"xiaomi", "windows phone", "nokia", "htc", "mobile", "smartphone", "outlook",
	"mailbox", "sparrow", "acompli", "airmail", "spark", "yahoo mail", "gmail",
	"aol", "telekom", "mobil", "móvil", "mobile", "portable", "cellulare", "telefon",
	"smartfon", "telemóvel", "telefoon", NULL};

struct folded_tables {
	char **verbs, **weak_verbs, **openers, **original, **forwarded, **closings, **mobile_openings,
		**mobile_devices, **field_names;
	GHashTable *exact;  /* folded phrase -> table tag, for whole-line lookups */
};

/* Tags of the whole-line phrases in tables.exact (field kinds are 1..5). */
#define TAG_ORIGINAL 16
#define TAG_FORWARDED 32
#define TAG_CLOSING 64

static struct folded_tables tables;

/* g_utf8_casefold, with plain ASCII (most of the tables) lower-cased
 * directly: the same result for ASCII, at a fraction of the cost that
 * every process trimming one reply paid for hundreds of phrases. */
static char *trim_casefold(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return g_utf8_casefold(s, -1);
	return g_ascii_strdown(s, -1);
}

static char **fold_list(const char **list)
{
	size_t n = 0;
	char **out;

	while (list[n] != NULL)
		n++;
	out = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++)
		out[i] = trim_casefold(list[i]);
	return out;
}

static void exact_add(const char *folded, unsigned tag)
{
	unsigned old = GPOINTER_TO_UINT(g_hash_table_lookup(tables.exact, folded));

	g_hash_table_insert(tables.exact, (gpointer)folded, GUINT_TO_POINTER(old | tag));
}

/* The tags of a whole folded phrase (0: none). */
static unsigned exact_tags(const char *folded)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(tables.exact, folded));
}

static gpointer tables_init(gpointer unused)
{
	size_t n = 0;

	tables.verbs = fold_list(verbs);
	tables.weak_verbs = fold_list(weak_verbs);
	tables.openers = fold_list(openers);
	tables.original = fold_list(original_message);
	tables.forwarded = fold_list(forwarded);
	tables.closings = fold_list(closings);
	tables.mobile_openings = fold_list(mobile_openings);
	tables.mobile_devices = fold_list(mobile_devices);
	while (field_names[n].name != NULL)
		n++;
	tables.field_names = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++)
		tables.field_names[i] = trim_casefold(field_names[i].name);
	tables.exact = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t i = 0; i < n; i++)
		exact_add(tables.field_names[i], field_names[i].kind);
	for (int i = 0; tables.original[i] != NULL; i++)
		exact_add(tables.original[i], TAG_ORIGINAL);
	for (int i = 0; tables.forwarded[i] != NULL; i++)
		exact_add(tables.forwarded[i], TAG_FORWARDED);
	for (int i = 0; tables.closings[i] != NULL; i++)
		exact_add(tables.closings[i], TAG_CLOSING);
	return NULL;
}

/* ---- lines ---- */

enum line_kind { LINE_TEXT, LINE_BLANK, LINE_QUOTE };

enum line_mark {
	MARK_NONE,
	MARK_ATTRIBUTION, /* start of an attribution; end in attribution_end */
	MARK_HISTORY,     /* Outlook history begins: cut from here */
	MARK_FORWARD,     /* a forwarded message begins: keep from here */
};

struct line {
	const char *s;          /* start in the text */
	size_t len;             /* bytes, without the line end */
	enum line_kind kind;
	enum line_mark mark;
	size_t attribution_end; /* last line of the attribution (MARK_ATTRIBUTION) */
	int keep;               /* 1: part of the result */
};

static int is_blank_byte(const char *s, size_t len, size_t *skip)
{
	if (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\f' || s[0] == '\v') {
		*skip = 1;
		return 1;
	}
	if (len >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) {
		*skip = 2;
		return 1;
	}
	if (len >= 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80 &&
	    ((unsigned char)s[2] == 0x8B || (unsigned char)s[2] == 0x8E ||
	     (unsigned char)s[2] == 0x8F)) { /* zero width space, LRM, RLM */
		*skip = 3;
		return 1;
	}
	return 0;
}

static int text_is_blank(const char *s, size_t len)
{
	size_t i = 0, skip;

	while (i < len) {
		if (!is_blank_byte(s + i, len - i, &skip))
			return 0;
		i += skip;
	}
	return 1;
}

/* Leading blanks (ASCII only: what quoting and rules start with). */
static size_t lead_spaces(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* The line without surrounding white space (including NBSP at the end). */
static void line_trim(const struct line *l, const char **s_r, size_t *len_r)
{
	const char *s = l->s;
	size_t len = l->len, skip;

	while (len > 0 && is_blank_byte(s, len, &skip)) {
		s += skip;
		len -= skip;
	}
	while (len > 0) {
		if (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')
			len--;
		else if (len >= 2 && (unsigned char)s[len - 2] == 0xC2 &&
			 (unsigned char)s[len - 1] == 0xA0)
			len -= 2;
		else
			break;
	}
	*s_r = s;
	*len_r = len;
}

static char *fold(const char *s, size_t len)
{
	return g_utf8_casefold(s, (gssize)len);
}

static int is_word_byte(char c)
{
	return g_ascii_isalnum(c) || (unsigned char)c >= 0x80;
}

/* A whole-word occurrence of word in folded. */
static int has_word(const char *folded, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(folded, word); p != NULL; p = strstr(p + 1, word)) {
		int before = p == folded || !is_word_byte(p[-1]);
		int after = !is_word_byte(p[n]);

		if (before && after)
			return 1;
	}
	return 0;
}

static int has_any_word(const char *folded, char **list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (has_word(folded, list[i]))
			return 1;
	return 0;
}

/* folded begins with one of the list as a whole word. */
static int starts_with_word(const char *folded, char **list)
{
	for (int i = 0; list[i] != NULL; i++) {
		size_t n = strlen(list[i]);

		if (strncmp(folded, list[i], n) == 0 && !is_word_byte(folded[n]))
			return 1;
	}
	return 0;
}

/* A date (1-4 digits, separator, 1-2 digits, separator, digit), a time
 * (d:dd) or an address (@) somewhere in s. */
static int has_date_time_or_address(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '@')
			return 1;
		if (!g_ascii_isdigit(s[i]) || (i > 0 && g_ascii_isdigit(s[i - 1])))
			continue;
		size_t d = i;
		while (d < len && g_ascii_isdigit(s[d]))
			d++;
		if (d - i > 4 || d >= len)
			continue;
		if (s[d] == ':' && d - i <= 2 && d + 2 < len && g_ascii_isdigit(s[d + 1]) &&
		    g_ascii_isdigit(s[d + 2]))
			return 1;
		if (s[d] == '.' || s[d] == '/' || s[d] == '-') {
			size_t e = d + 1, f;
			while (e < len && s[e] == ' ')
				e++;
			f = e;
			while (f < len && g_ascii_isdigit(s[f]))
				f++;
			if (f > e && f - e <= 2 && f + 1 < len &&
			    (s[f] == '.' || s[f] == '/' || s[f] == '-') &&
			    (g_ascii_isdigit(s[f + 1]) || (s[f + 1] == ' ' && f + 2 < len &&
							   g_ascii_isdigit(s[f + 2]))))
				return 1;
		}
	}
	return 0;
}

/* ---- phase 1: lines ---- */

/* Where, inside a line that ends an attribution, the attribution opens
 * after some reply text ("reply On Wed, ... wrote:"); 0 if it does not. */
static size_t shared_line_split(const char *s, size_t len)
{
	static const char *const inline_openers[] = {"On ", "Am ", "Le ", "El ", "Il ",
						     "Op ", "Em ", "Den ", "W dniu ", NULL};
	size_t text_end;

	for (size_t i = 1; i + 3 < len; i++) {
		if (s[i - 1] != ' ' && s[i - 1] != '-')
			continue;
		for (int k = 0; inline_openers[k] != NULL; k++) {
			size_t n = strlen(inline_openers[k]);

			if (i + n > len || strncmp(s + i, inline_openers[k], n) != 0)
				continue;
			if (!has_date_time_or_address(s + i, len - i))
				continue;
			text_end = i;
			while (text_end > 0 && (s[text_end - 1] == ' ' || s[text_end - 1] == '-'))
				text_end--;
			if (text_end > 0)
				return i;
		}
	}
	return 0;
}

/* The tail of an attribution: ends with ':' (French puts a space before
 * it) or with a dash rule ("wrote ----").  *body_len_r gets the length
 * without that tail. */
static int attribution_tail(const char *s, size_t len, size_t *body_len_r)
{
	size_t n = len, dashes = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n > 0 && s[n - 1] == ':') {
		*body_len_r = n - 1;
		return 1;
	}
	while (n > 0 && s[n - 1] == '-')
		n--, dashes++;
	if (dashes >= 2) {
		*body_len_r = n;
		return 1;
	}
	return 0;
}

static int lines_split(const char *text, size_t len, GArray *lines, char **error_r)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		struct line line = {.s = text + pos, .len = l, .keep = 1};
		size_t body, split;

		if (lines->len >= REPLY_TRIM_MAX_LINES)
			return imi_fail(error_r, IMI_TOOBIG,
					"the text has more than %d lines (REPLY_TRIM_MAX_LINES)",
					REPLY_TRIM_MAX_LINES);
		if (l > 0 && l < ATTRIBUTION_MAX_BYTES && line.s[0] != '>' &&
		    attribution_tail(line.s, l, &body) &&
		    (split = shared_line_split(line.s, l)) > 0) {
			char *folded = fold(line.s + split, l - split);
			int verb = has_any_word(folded, tables.verbs);

			g_free(folded);
			if (verb) {
				struct line first = line;
				size_t end = split;

				while (end > 0 && (line.s[end - 1] == ' ' || line.s[end - 1] == '-'))
					end--;
				first.len = end;
				g_array_append_val(lines, first);
				line.s += split;
				line.len = l - split;
			}
		}
		g_array_append_val(lines, line);
		pos += l + 1;
	}
	return IMI_OK;
}

/* ---- phase 2: classification ---- */

static int line_is_quote(const struct line *l)
{
	size_t i = lead_spaces(l->s, l->len);

	return i < l->len && i <= 3 && l->s[i] == '>';
}

/* The text of a rule line without its dashes, underscores, stars and
 * blanks around, folded; NULL when the line has no rule around it. */
static char *rule_phrase(const struct line *l, int need_dashes)
{
	const char *s;
	size_t len, a = 0, b, dashes = 0;
	char *folded;

	line_trim(l, &s, &len);
	b = len;
	while (a < b && strchr("-_=*~ \t", s[a]) != NULL)
		dashes += s[a] == '-' || s[a] == '_' || s[a] == '=', a++;
	while (b > a && strchr("-_=*~: \t", s[b - 1]) != NULL)
		b--;
	if (a >= b || (need_dashes && dashes < 2) || b - a > 80)
		return NULL;
	folded = fold(s + a, b - a);
	return folded;
}

static int line_is_original_message(const struct line *l)
{
	char *phrase;
	int yes;

	if (l->len < 8 || (phrase = rule_phrase(l, 1)) == NULL)
		return 0;
	yes = (exact_tags(phrase) & TAG_ORIGINAL) != 0;
	g_free(phrase);
	return yes;
}

static int line_is_forward(const struct line *l)
{
	const char *s;
	size_t len;
	char *phrase;
	int yes;

	line_trim(l, &s, &len);
	if (len < 8 || len > 100)
		return 0;
	phrase = rule_phrase(l, !(s[len - 1] == ':'));
	if (phrase == NULL)
		return 0;
	yes = (exact_tags(phrase) & TAG_FORWARDED) != 0;
	g_free(phrase);
	return yes;
}

/* The field kind of a header-block line ("From: x", "*Von:* x", "De : x");
 * *value_r points after the colon. */
static enum field_kind line_field(const struct line *l, const char **value_r)
{
	const char *s = l->s + lead_spaces(l->s, l->len);
	size_t len = l->len - (s - l->s), name_end, colon;
	char *folded;
	enum field_kind kind = FIELD_NONE;

	if (len > 0 && s[0] == '*')
		s++, len--;
	for (colon = 0; colon < len && colon < FOLD_PREFIX_BYTES && s[colon] != ':'; colon++)
		;
	if (colon == 0 || colon >= len || colon >= FOLD_PREFIX_BYTES || s[colon] != ':')
		return FIELD_NONE;
	name_end = colon;
	while (name_end > 0 && (s[name_end - 1] == ' ' || s[name_end - 1] == '*'))
		name_end--;
	if (name_end == 0)
		return FIELD_NONE;
	folded = fold(s, name_end);
	kind = (enum field_kind)(exact_tags(folded) & 15);
	g_free(folded);
	if (value_r != NULL) {
		const char *v = s + colon + 1;
		while (v < s + len && (*v == '*' || *v == ' '))
			v++;
		*value_r = v;
	}
	return kind;
}

/* A header block opens at line i: at least two kinds of fields within a
 * few lines, with From, or with Date/Sent and To or Subject.  One line
 * holding From and Sent together (flattened HTML) also counts. */
static int header_block_at(const struct line *lines, size_t n, size_t i)
{
	int seen[FIELD_COUNT] = {0}, kinds = 0, continuation = 0, to_address = 0;
	const char *value;
	enum field_kind first = line_field(&lines[i], &value);

	if (first == FIELD_NONE || first == FIELD_CC ||
	    ((first == FIELD_FROM || first == FIELD_TO) && g_ascii_isdigit(*value)))
		return 0;
	if (first == FIELD_FROM) {
		char *folded = fold(value, lines[i].len - (value - lines[i].s));
		int both = strstr(folded, " sent:") != NULL || strstr(folded, " gesendet:") != NULL ||
			   strstr(folded, " envoyé :") != NULL || strstr(folded, " date:") != NULL;
		g_free(folded);
		if (both)
			return 1;
	}
	for (size_t j = i; j < n && j < i + HEADER_BLOCK_MAX_LINES; j++) {
		enum field_kind kind;

		if (lines[j].kind == LINE_BLANK)
			break;
		kind = line_field(&lines[j], &value);
		/* "From: 01.01.2019 / To: 31.12.2019" is a period, not a sender */
		if ((kind == FIELD_FROM || kind == FIELD_TO) && g_ascii_isdigit(*value))
			kind = FIELD_NONE;
		if (kind == FIELD_NONE) {
			if (++continuation > 2)
				break;
			continue;
		}
		continuation = 0;
		if (kind == FIELD_TO && strchr(value, '@') != NULL)
			to_address = 1;
		if (!seen[kind])
			kinds++;
		seen[kind] = 1;
	}
	/* From and To alone are too common in answers; a history block also
	 * names its date or its subject */
	if (kinds < 2 || !(seen[FIELD_DATE] || seen[FIELD_SUBJECT]))
		return 0;
	return seen[FIELD_FROM] || (seen[FIELD_DATE] && to_address);
}

/* 2: the line opens with an attribution word ("On", "Am" ...), 1: with a
 * digit (a date), 0: neither. */
static int line_starts_with_opener(const struct line *l)
{
	const char *s;
	size_t len, a = 0;
	char *folded;
	int yes;

	line_trim(l, &s, &len);
	while (a < len && s[a] == '-')
		a++;
	if (a >= len)
		return 0;
	if (g_ascii_isdigit(s[a]))
		return 1;
	folded = fold(s + a, len - a < 24 ? len - a : 24);
	yes = starts_with_word(folded, tables.openers) ? 2 : 0;
	g_free(folded);
	return yes;
}

/* Next non-blank line after i (n if none). */
static size_t next_nonblank(const struct line *lines, size_t n, size_t i)
{
	for (i++; i < n && lines[i].kind == LINE_BLANK; i++)
		;
	return i;
}

static int quoted_next_line(const struct line *lines, size_t n, size_t i)
{
	size_t after = next_nonblank(lines, n, i);

	return after < n && lines[after].kind == LINE_QUOTE;
}

/* Does an attribution end at line i?  Sets *start_r to its first line. */
static int attribution_at(const struct line *lines, size_t n, size_t i, size_t *start_r)
{
	const struct line *l = &lines[i];
	const char *s;
	size_t len, body, start = i, total = 0, after;
	char *folded, *joined;
	int verb, opener = 0, dated, quoted_next;

	line_trim(l, &s, &len);
	if (len == 0 || len > ATTRIBUTION_MAX_BYTES || !attribution_tail(s, len, &body))
		return 0;
	if (l->kind == LINE_QUOTE) {
		/* "> wrote:" closing an attribution a client broke with a '>' */
		size_t a = 0;
		while (a < body && (s[a] == '>' || s[a] == ' '))
			a++;
		folded = fold(s + a, body - a);
		verb = starts_with_word(folded, tables.verbs);
		g_free(folded);
		if (!verb)
			return 0;
	}
	/* the opening line: the nearest opening word within the window, else
	 * the nearest line opening with a date */
	for (size_t j = i + 1; j-- > 0 && i - j < ATTRIBUTION_MAX_LINES;) {
		int o;

		if (j < i && lines[j].kind == LINE_QUOTE)
			break;
		if (lines[j].kind == LINE_BLANK)
			continue;
		total += lines[j].len;
		if (total > ATTRIBUTION_MAX_BYTES)
			break;
		o = line_starts_with_opener(&lines[j]);
		if (o == 2 || (o == 1 && !opener)) {
			start = j;
			opener = o;
			if (o == 2)
				break;
		}
	}
	if (!opener && i > 0 && lines[i - 1].kind == LINE_TEXT && lines[i - 1].len < 200) {
		/* "... Name <addr>\nwrote:": the verb line alone is too short */
		size_t a = 0;
		while (a < len && (s[a] == '>' || s[a] == ' '))
			a++;
		folded = fold(s + a, len - a);
		if (starts_with_word(folded, tables.verbs) || s[a] == '<')
			start = i - 1;
		g_free(folded);
	}
	{
		GString *w = g_string_new(NULL);
		for (size_t j = start; j <= i; j++) {
			g_string_append_len(w, lines[j].s, j == i ? (size_t)(s - lines[j].s) + body
								   : lines[j].len);
			g_string_append_c(w, ' ');
		}
		joined = g_string_free(w, FALSE);
	}
	folded = fold(joined, -1);
	verb = has_any_word(folded, tables.verbs);
	if (verb && !opener && !quoted_next_line(lines, n, i)) {
		/* a weak verb alone does not make prose an attribution */
		int strong = 0;
		for (int k = 0; tables.verbs[k] != NULL && !strong; k++)
			strong = has_word(folded, tables.verbs[k]) &&
				 !g_strv_contains((const char *const *)tables.weak_verbs,
						  tables.verbs[k]);
		verb = strong;
	}
	dated = has_date_time_or_address(joined, strlen(joined));
	g_free(folded);
	g_free(joined);
	after = next_nonblank(lines, n, i);
	quoted_next = after < n && lines[after].kind == LINE_QUOTE;
	/* the opening word is only where it starts: prose has verbs and
	 * colons too, an attribution also has a date, an address or a quote */
	if (!verb || !(dated || quoted_next))
		return 0;
	*start_r = start;
	return 1;
}

/* A verbless attribution right above a quote: a date, time or address in
 * a short line that ends with ':' or opens with a date, (possibly wrapped
 * from the line above). */
static int dated_attribution_at(const struct line *lines, size_t n, size_t i, size_t *start_r)
{
	const struct line *l = &lines[i];
	const char *s;
	size_t len, after = next_nonblank(lines, n, i);

	if (l->kind != LINE_TEXT || after >= n || after - i > 3 || lines[after].kind != LINE_QUOTE)
		return 0;
	line_trim(l, &s, &len);
	if (len == 0 || len > 250 || !has_date_time_or_address(s, len))
		return 0;
	if (!(s[len - 1] == ':' || (g_ascii_isdigit(s[0]) && memchr(s, '@', len) != NULL)))
		return 0;
	*start_r = i;
	if (i > 0 && lines[i - 1].kind == LINE_TEXT && line_starts_with_opener(&lines[i - 1]) &&
	    lines[i - 1].len < 200 && !g_ascii_isdigit(s[0])) {
		const char *p;
		size_t plen;
		line_trim(&lines[i - 1], &p, &plen);
		if (plen > 0 && strchr(".!?", p[plen - 1]) == NULL)
			*start_r = i - 1;
	}
	return 1;
}

static void lines_classify(struct line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (text_is_blank(lines[i].s, lines[i].len))
			lines[i].kind = LINE_BLANK;
		else if (line_is_quote(&lines[i]))
			lines[i].kind = LINE_QUOTE;
		else
			lines[i].kind = LINE_TEXT;
	}
	for (size_t i = 0; i < n; i++) {
		size_t start;

		if (lines[i].kind == LINE_BLANK)
			continue;
		if (lines[i].kind == LINE_TEXT) {
			if (line_is_forward(&lines[i])) {
				lines[i].mark = MARK_FORWARD;
				continue;
			}
			if (line_is_original_message(&lines[i]) || header_block_at(lines, n, i)) {
				lines[i].mark = MARK_HISTORY;
				continue;
			}
		}
		if (attribution_at(lines, n, i, &start) || dated_attribution_at(lines, n, i, &start)) {
			/* an earlier mark inside the range gives way to it */
			for (size_t j = start; j < i; j++)
				lines[j].mark = MARK_NONE;
			lines[start].mark = MARK_ATTRIBUTION;
			lines[start].attribution_end = i;
		}
	}
}

/* ---- phase 3: quotes and histories ---- */

/* A text line inside a quote that only continues a link the quote broke
 * ("(http://...) >", or the rest of a wrapped URL). */
static int quote_continuation(const struct line *lines, size_t n, size_t i)
{
	const char *s, *p;
	size_t len, plen, spaces = 0;

	if (i == 0 || i + 1 >= n || lines[i - 1].kind != LINE_QUOTE ||
	    lines[i + 1].kind != LINE_QUOTE || lines[i].kind != LINE_TEXT)
		return 0;
	line_trim(&lines[i], &s, &len);
	for (size_t k = 0; k < len; k++)
		spaces += s[k] == ' ';
	if (g_strstr_len(s, len, "://") != NULL && spaces <= 2)
		return 1;
	line_trim(&lines[i - 1], &p, &plen);
	return spaces == 0 && g_strstr_len(p, plen, "://") != NULL &&
	       memchr(p + plen - (plen < 60 ? plen : 60), ' ', plen < 60 ? plen : 60) != NULL &&
	       strchr(")>", s[len - 1]) != NULL;
}

/* The end (exclusive) of the quote block starting at i, its trailing
 * empty lines included. */
static size_t quote_block_end(const struct line *lines, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && (lines[j].kind == LINE_QUOTE || lines[j].kind == LINE_BLANK ||
			 quote_continuation(lines, n, j)))
		j++;
	return j;
}

static void lines_drop_quotes(struct line *lines, size_t n, int quotes_marked)
{
	size_t quotes = 0, i;
	int splitter = 0;

	for (i = 0; i < n; i++) {
		quotes += lines[i].kind == LINE_QUOTE;
		splitter |= lines[i].mark == MARK_ATTRIBUTION || lines[i].mark == MARK_HISTORY;
	}
	i = 0;
	while (i < n) {
		struct line *l = &lines[i];

		if (l->mark == MARK_FORWARD)
			return;
		if (l->mark == MARK_HISTORY) {
			for (; i < n; i++)
				lines[i].keep = 0;
			return;
		}
		if (l->mark == MARK_ATTRIBUTION) {
			size_t after = next_nonblank(lines, n, l->attribution_end), end;

			if (after < n && lines[after].kind == LINE_QUOTE) {
				end = quote_block_end(lines, n, after);
				for (size_t j = i; j < end; j++)
					lines[j].keep = 0;
				i = end;
				continue;
			}
			for (; i < n; i++)
				lines[i].keep = 0;
			return;
		}
		if (l->kind == LINE_QUOTE && (splitter || quotes_marked || quotes >= 2)) {
			size_t end = quote_block_end(lines, n, i);

			for (size_t j = i; j < end; j++)
				lines[j].keep = 0;
			i = end;
			continue;
		}
		i++;
	}
}

/* ---- phase 4: signature ---- */

enum sig_kind { SIG_NONE, SIG_DELIMITER, SIG_RULE, SIG_DASH_NAME, SIG_CLOSING, SIG_MOBILE };

static int is_bullet_line(const struct line *l)
{
	const char *s;
	size_t len;

	line_trim(l, &s, &len);
	return len >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ';
}

static size_t count_words(const char *s, size_t len)
{
	size_t words = 0;
	int in = 0;

	for (size_t i = 0; i < len; i++) {
		int space = s[i] == ' ' || s[i] == '\t';
		if (!space && !in)
			words++;
		in = !space;
	}
	return words;
}

static enum sig_kind signature_kind(const struct line *l)
{
	const char *s;
	size_t len, k;
	char *folded;
	enum sig_kind kind = SIG_NONE;

	if (l->len == 3 && memcmp(l->s, "-- ", 3) == 0)
		return SIG_DELIMITER;
	line_trim(l, &s, &len);
	if (len == 0)
		return SIG_NONE;
	for (k = 0; k < len && (s[k] == '-' || s[k] == '_' || s[k] == '='); k++)
		;
	if (k == len && len >= 2 && len <= 80)
		return SIG_RULE;
	if (len >= 3 && memcmp(s, "\xE2\x80\x94", 3) == 0 && len <= 40 && count_words(s, len) <= 3)
		return SIG_DASH_NAME; /* "—Name" */
	if (s[0] == '-' && len >= 2 && len <= 30) {
		size_t a = s[1] == ' ' ? 2 : 1;
		size_t words = count_words(s + a, len - a);

		if (a < len && (g_ascii_isalpha(s[a]) || (unsigned char)s[a] >= 0x80) &&
		    words <= (a == 2 ? 2u : 3u))
			return SIG_DASH_NAME;
	}
	if (len > 80)
		return SIG_NONE;
	folded = fold(s, len);
	{
		/* closing: the formula alone, maybe with punctuation and a name */
		size_t flen = strlen(folded);
		char *comma;

		while (flen > 0 && strchr(",.!: ", folded[flen - 1]) != NULL)
			folded[--flen] = '\0';
		if (exact_tags(folded) & TAG_CLOSING) {
			kind = SIG_CLOSING;
		} else if ((comma = strchr(folded, ',')) != NULL && count_words(comma, strlen(comma)) <= 3) {
			*comma = '\0';
			if (exact_tags(folded) & TAG_CLOSING)
				kind = SIG_CLOSING;
			*comma = ',';
		}
	}
	if (kind == SIG_NONE && count_words(s, len) <= 14 && memchr(s, ',', len) == NULL &&
	    memchr(s, '?', len) == NULL) {
		if (starts_with_word(folded, tables.mobile_openings) &&
		    (count_words(s, len) <= 8 || has_any_word(folded, tables.mobile_devices)))
			kind = SIG_MOBILE;
		else if (has_any_word(folded, tables.mobile_devices) &&
			 (strstr(folded, "sent") != NULL || strstr(folded, "envoy") != NULL ||
			  strstr(folded, "gesendet") != NULL || strstr(folded, "enviado") != NULL))
			kind = SIG_MOBILE;
	}
	g_free(folded);
	return kind;
}

/* An answer by question code ("Q3: yes", "q12) no"): never part of a
 * signature, whatever comes before it. */
static int line_is_question_code(const struct line *l)
{
	size_t i = lead_spaces(l->s, l->len), d;

	if (i >= l->len || (l->s[i] != 'Q' && l->s[i] != 'q'))
		return 0;
	for (d = i + 1; d < l->len && g_ascii_isdigit(l->s[d]); d++)
		;
	if (d == i + 1 || d - i > 4)
		return 0;
	while (d < l->len && l->s[d] == ' ')
		d++;
	return d < l->len && strchr(":.)-", l->s[d]) != NULL;
}

/* Removes the signature from the kept lines in [0, end). */
static void lines_drop_signature(struct line *lines, size_t end)
{
	size_t first = end, cut = end, nonblank_after = 0, long_after = 0;
	size_t scanned = 0;
	size_t i;

	for (i = 0; i < end; i++)
		if (lines[i].keep && lines[i].kind != LINE_BLANK) {
			first = i;
			break;
		}
	if (first >= end)
		return;
	for (i = end; i-- > first + 1;) {
		enum sig_kind kind;
		int ok = 0;

		if (!lines[i].keep || lines[i].kind == LINE_BLANK)
			continue;
		if (line_is_question_code(&lines[i]))
			break; /* a signature lies below the last answer */
		kind = signature_kind(&lines[i]);
		switch (kind) {
		case SIG_DELIMITER:
			ok = nonblank_after <= 60;
			break;
		case SIG_RULE:
			ok = nonblank_after <= 6 && long_after == 0;
			break;
		case SIG_DASH_NAME: {
			size_t p = i, q = i;
			int bullet = 0;

			while (p-- > 0 && (!lines[p].keep || lines[p].kind == LINE_BLANK))
				;
			if (p < i && p < end && lines[p].keep)
				bullet |= is_bullet_line(&lines[p]);
			for (q = i + 1; q < end && (!lines[q].keep || lines[q].kind == LINE_BLANK); q++)
				;
			if (q < end)
				bullet |= is_bullet_line(&lines[q]);
			ok = !bullet && nonblank_after <= 8 && long_after == 0;
			break;
		}
		case SIG_CLOSING:
			ok = nonblank_after <= 6 && long_after == 0;
			break;
		case SIG_MOBILE:
			ok = nonblank_after <= 3 && long_after == 0;
			break;
		default:
			break;
		}
		if (ok)
			cut = i;
		nonblank_after++;
		if (lines[i].len > 100)
			long_after++;
		if (kind != SIG_DELIMITER && ++scanned >= SIGNATURE_SCAN_LINES && cut == end) {
			/* only a "-- " delimiter may sit further up */
			for (size_t j = i; j-- > first + 1;)
				if (lines[j].keep && lines[j].len == 3 &&
				    memcmp(lines[j].s, "-- ", 3) == 0) {
					size_t after = 0;
					for (size_t k = j + 1; k < end; k++)
						after += lines[k].keep && lines[k].kind != LINE_BLANK;
					if (after <= 60)
						cut = j;
					break;
				}
			break;
		}
	}
	for (i = cut; i < end; i++)
		lines[i].keep = 0;
}

/* ---- phase 5: output ---- */

static int line_is_rule_only(const struct line *l)
{
	const char *s;
	size_t len, k;

	line_trim(l, &s, &len);
	for (k = 0; k < len && (s[k] == '-' || s[k] == '_' || s[k] == '='); k++)
		;
	return len >= 2 && k == len;
}

static char *lines_join(struct line *lines, size_t n, int strip_lines)
{
	GString *out = g_string_new(NULL);
	size_t first = 0, last = n;

	while (first < n && (!lines[first].keep || lines[first].kind == LINE_BLANK))
		first++;
	/* trailing empty lines and orphaned rules (an <hr> before a cut) */
	while (last > first && (!lines[last - 1].keep || lines[last - 1].kind == LINE_BLANK ||
				line_is_rule_only(&lines[last - 1])))
		last--;
	for (size_t i = first; i < last; i++) {
		if (!lines[i].keep)
			continue;
		if (out->len > 0 || i > first)
			g_string_append_c(out, '\n');
		if (strip_lines) {
			const char *s;
			size_t len;

			line_trim(&lines[i], &s, &len);
			/* keep the indentation, drop trailing blanks */
			len += s - lines[i].s;
			g_string_append_len(out, lines[i].s, len);
		} else {
			g_string_append_len(out, lines[i].s, lines[i].len);
		}
	}
	while (out->len > 0 && g_ascii_isspace(out->str[out->len - 1]))
		g_string_truncate(out, out->len - 1);
	if (out->len >= 2 && (unsigned char)out->str[out->len - 2] == 0xC2 &&
	    (unsigned char)out->str[out->len - 1] == 0xA0)
		g_string_truncate(out, out->len - 2);
	return g_string_free(out, FALSE);
}

int reply_trim(const char *text, size_t len, size_t history_offset,
	       int quotes_marked, enum reply_trim_mode mode, char **new_text_r,
	       char **error_r)
{
	static GOnce once = G_ONCE_INIT;
	GArray *array;
	struct line *lines;
	size_t n, end;
	int ret;

	*new_text_r = NULL;
	g_once(&once, tables_init, NULL);
	if (history_offset < len)
		len = history_offset;
	array = g_array_new(FALSE, FALSE, sizeof(struct line));
	if ((ret = lines_split(text, len, array, error_r)) != IMI_OK) {
		g_array_free(array, TRUE);
		return ret;
	}
	lines = (struct line *)(void *)array->data;
	n = array->len;
	lines_classify(lines, n);
	lines_drop_quotes(lines, n, quotes_marked);
	if (mode == REPLY_TRIM_FULL) {
		for (end = 0; end < n && lines[end].mark != MARK_FORWARD; end++)
			;
		lines_drop_signature(lines, end);
	}
	*new_text_r = lines_join(lines, n, mode == REPLY_TRIM_FULL);
	g_array_free(array, TRUE);
	return IMI_OK;
}

int reply_trim_message(const struct parsed_message *msg, enum reply_trim_mode mode,
		       char **new_text_r, char **error_r)
{
	size_t len;
	const char *text = parsed_message_text(msg, &len);

	return reply_trim(text, len, parsed_message_history_offset(msg),
			  parsed_message_text_from_html(msg), mode, new_text_r, error_r);
}

/*
 * message_tnef.c: Outlook's TNEF (winmail.dat) read with libytnef, so that
 * the body and the attachments Outlook packed into it are not lost.
 *
 * The body is taken from, in order: the TNEF body attribute, PR_BODY
 * (Unicode or 8-bit), PR_BODY_HTML (turned to text), PR_RTF_COMPRESSED
 * (decompressed, then a crude RTF to text).  Attachment data is kept as
 * stored; names prefer PR_ATTACH_LONG_FILENAME to the 8.3 title.
 *
 * libytnef is opened on the first winmail.dat, not linked; without it a
 * message with one is IMI_TEMPFAIL (the MTA keeps it).
 *
 * libytnef prints (on stdout) when it meets damage; tnef_prepare hands it
 * only the well-formed part of the stream, which silences the common cases
 * (bad checksums, truncation).  Damage inside a MAPI property block can
 * still make it print: `imi parse` and `imi milter` point their standard
 * output at /dev/null around it.
 */
#include "parser/message.h"
#include "parser/message_private.h"
#include "util/lib_load.h"

#include <stdio.h> /* ytnef.h needs FILE */
#include <stdlib.h>
#include <string.h>
#include <ytnef.h>

/* Most attributes read from one winmail.dat. */
#define TNEF_MAX_ATTRIBUTES 10000

/* libytnef is not linked but opened on the first winmail.dat
 * (util/lib_load.h says why); IMI_LIBYTNEF names another library than
 * libytnef.so.0 (tests). */
static struct {
	void *handle;                                 /* dlopen handle, or NULL */
	__typeof__(TNEFInitialize) *initialize;
	__typeof__(TNEFParseMemory) *parse_memory;
	__typeof__(TNEFFree) *free;
	__typeof__(MAPIFindProperty) *find_property;
	__typeof__(DecompressRTF) *decompress_rtf;
	char *error;                                  /* why it is not there, or NULL */
} tnef_lib;

/* Under g_once: the milter reads messages in several threads at once. */
static gpointer tnef_lib_open(gpointer unused)
{
	const struct lib_symbol symbols[] = {
		{"TNEFInitialize", &tnef_lib.initialize},
		{"TNEFParseMemory", &tnef_lib.parse_memory},
		{"TNEFFree", &tnef_lib.free},
		{"MAPIFindProperty", &tnef_lib.find_property},
		{"DecompressRTF", &tnef_lib.decompress_rtf},
	};

	lib_load("libytnef.so.0", "IMI_LIBYTNEF", symbols, G_N_ELEMENTS(symbols), &tnef_lib.handle,
		 &tnef_lib.error);
	return NULL;
}

static guint32 tnef_le32(const BYTE *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (guint32)p[3] << 24;
}

/* Walks the attribute stream as MS-OXTNEF lays it out (after signature and
 * key: level, id, length, data, 16-bit sum of the data) and returns how
 * many bytes of it are well formed: a damaged tail is cut off, every
 * checksum is rewritten and a version attribute of the wrong size ends
 * the stream.  libytnef prints on stdout about each of these; fed only the
 * sound part, it has nothing to say.  0: nothing usable. */
static size_t tnef_prepare(BYTE *copy, size_t len)
{
	size_t pos = 6;
	int attributes = 0;

	while (pos < len && attributes < TNEF_MAX_ATTRIBUTES) {
		guint32 id, size;
		unsigned sum = 0;

		if (len - pos < 11 || (copy[pos] != 1 && copy[pos] != 2))
			break;
		id = tnef_le32(copy + pos + 1);
		size = tnef_le32(copy + pos + 5);
		if (size > len - pos - 11 || (id == 0x00089006 && size != 4))
			break;
		for (guint32 i = 0; i < size; i++)
			sum += copy[pos + 9 + i];
		copy[pos + 9 + size] = sum & 0xFF;
		copy[pos + 10 + size] = (sum >> 8) & 0xFF;
		pos += 11 + (size_t)size;
		attributes++;
	}
	return attributes > 0 ? pos : 0;
}

static int tnef_prop(MAPIProps *props, unsigned type, unsigned id, variableLength **v_r)
{
	variableLength *v = tnef_lib.find_property(props, PROP_TAG(type, id));

	if (v == MAPI_UNDEFINED || v == NULL || v->data == NULL || v->size <= 0)
		return 0;
	*v_r = v;
	return 1;
}

/* A string property to UTF-8, trailing NULs dropped. */
static char *tnef_string(const variableLength *v, int unicode, const char *codepage)
{
	size_t size = (size_t)v->size;

	if (unicode) {
		/* libytnef has turned PT_UNICODE into NUL-terminated UTF-8 already
		 * but left the size of the UTF-16 original */
		size = strnlen((const char *)v->data, size);
		return parse_text_to_utf8((const char *)v->data, size, "UTF-8");
	}
	while (size > 0 && v->data[size - 1] == 0)
		size--;
	return parse_text_to_utf8((const char *)v->data, size, codepage);
}

/* The body in *body_r (NULL when there is none); IMI_TEMPFAIL only when
 * it is HTML and libxml2 cannot be loaded. */
static int tnef_body(TNEFStruct *tnef, const char *codepage, char **body_r, int *html_r,
		     char **error_r)
{
	variableLength *v;

	*html_r = 0;
	*body_r = NULL;
	if (tnef->body.size > 0 && tnef->body.data != NULL) {
		*body_r = tnef_string(&tnef->body, 0, codepage);
		return IMI_OK;
	}
	if (tnef_prop(&tnef->MapiProperties, PT_UNICODE, PR_BODY, &v)) {
		*body_r = tnef_string(v, 1, codepage);
		return IMI_OK;
	}
	if (tnef_prop(&tnef->MapiProperties, PT_STRING8, PR_BODY, &v)) {
		*body_r = tnef_string(v, 0, codepage);
		return IMI_OK;
	}
	if (tnef_prop(&tnef->MapiProperties, PT_BINARY, PR_BODY_HTML, &v) ||
	    tnef_prop(&tnef->MapiProperties, PT_STRING8, PR_BODY_HTML, &v)) {
		/* the HTML is in the message's Internet code page, which is
		 * not the OEM one of the TNEF stream */
		variableLength *cpid;
		char internet[16];
		const char *html_charset = codepage;
		char *html;
		int ret;

		if (tnef_prop(&tnef->MapiProperties, PT_LONG, PR_INTERNET_CPID, &cpid) &&
		    cpid->size >= 4) {
			guint32 cp = tnef_le32(cpid->data);
			if (cp == 65001)
				html_charset = "UTF-8";
			else if (cp > 0 && cp < 100000) {
				g_snprintf(internet, sizeof(internet), "CP%u", cp);
				html_charset = internet;
			}
		} else if (g_utf8_validate((const char *)v->data, strnlen((const char *)v->data, v->size), NULL)) {
			html_charset = "UTF-8";
		}
		html = tnef_string(v, 0, html_charset);
		ret = parse_html_to_text(html, strlen(html), body_r, NULL, error_r);
		g_free(html);
		*html_r = ret == IMI_OK;
		return ret;
	}
	if (tnef_prop(&tnef->MapiProperties, PT_BINARY, PR_RTF_COMPRESSED, &v)) {
		int size = 0;
		BYTE *rtf = tnef_lib.decompress_rtf(v, &size);

		if (rtf != NULL && size > 0)
			*body_r = parse_rtf_to_text((const char *)rtf, (size_t)size);
		free(rtf);
	}
	return IMI_OK;
}

int message_tnef_read(struct parsed_message *msg, const unsigned char *data, size_t len,
		      char **body_r, int *body_html_r, char **error_r)
{
	static GOnce once = G_ONCE_INIT;
	TNEFStruct tnef;
	BYTE *copy;
	char codepage[16] = "WINDOWS-1252";
	int ret;

	*body_r = NULL;
	*body_html_r = 0;
	/* Checked here because libytnef prints its complaint about a wrong
	 * signature. */
	if (len < 6 || len > (size_t)G_MAXLONG || data[0] != 0x78 || data[1] != 0x9F ||
	    data[2] != 0x3E || data[3] != 0x22)
		return IMI_INVALID;
	g_once(&once, tnef_lib_open, NULL);
	if (tnef_lib.handle == NULL)
		return imi_fail(error_r, IMI_TEMPFAIL, "winmail.dat: %s", tnef_lib.error);
	copy = g_memdup2(data, len);
	if ((len = tnef_prepare(copy, len)) == 0) {
		g_free(copy);
		return IMI_INVALID;
	}
	tnef_lib.initialize(&tnef);
	tnef.Debug = 0;
	ret = tnef_lib.parse_memory(copy, (long)len, &tnef);
	if (ret < 0) {
		tnef_lib.free(&tnef);
		g_free(copy);
		return IMI_INVALID;
	}
	if (tnef.CodePage.size >= 4 && tnef.CodePage.data != NULL) {
		unsigned cp = tnef.CodePage.data[0] | tnef.CodePage.data[1] << 8 |
			      tnef.CodePage.data[2] << 16 | (unsigned)tnef.CodePage.data[3] << 24;
		if (cp > 0 && cp < 100000 && cp != 65001)
			g_snprintf(codepage, sizeof(codepage), "CP%u", cp);
		else if (cp == 65001)
			g_strlcpy(codepage, "UTF-8", sizeof(codepage));
	}
	if ((ret = tnef_body(&tnef, codepage, body_r, body_html_r, error_r)) != IMI_OK) {
		tnef_lib.free(&tnef);
		g_free(copy);
		return ret;
	}
	for (Attachment *a = tnef.starting_attach.next; a != NULL; a = a->next) {
		variableLength *v;
		char *name = NULL, *type = NULL;
		GBytes *bytes;

		if (tnef_prop(&a->MAPI, PT_UNICODE, PR_ATTACH_LONG_FILENAME, &v))
			name = tnef_string(v, 1, codepage);
		else if (tnef_prop(&a->MAPI, PT_STRING8, PR_ATTACH_LONG_FILENAME, &v))
			name = tnef_string(v, 0, codepage);
		else if (a->Title.size > 0 && a->Title.data != NULL)
			name = tnef_string(&a->Title, 0, codepage);
		if (tnef_prop(&a->MAPI, PT_STRING8, PR_ATTACH_MIME_TAG, &v))
			type = tnef_string(v, 0, "US-ASCII");
		if (a->FileData.size > 0 && a->FileData.data != NULL)
			bytes = g_bytes_new(a->FileData.data, (gsize)a->FileData.size);
		else if (tnef_prop(&a->MAPI, PT_BINARY, PR_ATTACH_DATA_OBJ, &v))
			bytes = g_bytes_new(v->data, (gsize)v->size);
		else
			bytes = NULL;
		if (bytes != NULL)
			message_add_attachment(msg, name,
					       type != NULL && strchr(type, '/') != NULL
						       ? type : "application/octet-stream",
					       bytes, 1);
		g_free(name);
		g_free(type);
	}
	tnef_lib.free(&tnef);
	g_free(copy);
	return IMI_OK;
}

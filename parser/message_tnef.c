/*
 * message_tnef.c: Outlook's TNEF (winmail.dat) read with libytnef, so that
 * the body and the attachments Outlook packed into it are not lost.
 *
 * The body is taken from, in order: the TNEF body attribute, PR_BODY
 * (Unicode or 8-bit), PR_BODY_HTML (turned to text), PR_RTF_COMPRESSED
 * (decompressed, then a crude RTF to text).  Attachment data is kept as
 * stored; names prefer PR_ATTACH_LONG_FILENAME to the 8.3 title.
 */
#include "parser/message.h"
#include "parser/message_private.h"

#include <stdio.h> /* ytnef.h needs FILE */
#include <stdlib.h>
#include <string.h>
#include <ytnef.h>

static int tnef_prop(MAPIProps *props, unsigned type, unsigned id, variableLength **v_r)
{
	variableLength *v = MAPIFindProperty(props, PROP_TAG(type, id));

	if (v == MAPI_UNDEFINED || v == NULL || v->data == NULL || v->size <= 0)
		return 0;
	*v_r = v;
	return 1;
}

/* An 8-bit or UTF-16LE string property to UTF-8, trailing NULs dropped. */
static char *tnef_string(const variableLength *v, int unicode, const char *codepage)
{
	size_t size = (size_t)v->size;

	if (unicode) {
		while (size >= 2 && v->data[size - 1] == 0 && v->data[size - 2] == 0)
			size -= 2;
		return parse_text_to_utf8((const char *)v->data, size, "UTF-16LE");
	}
	while (size > 0 && v->data[size - 1] == 0)
		size--;
	return parse_text_to_utf8((const char *)v->data, size, codepage);
}

static char *tnef_body(TNEFStruct *tnef, const char *codepage, int *html_r)
{
	variableLength *v;

	*html_r = 0;
	if (tnef->body.size > 0 && tnef->body.data != NULL)
		return tnef_string(&tnef->body, 0, codepage);
	if (tnef_prop(&tnef->MapiProperties, PT_UNICODE, PR_BODY, &v))
		return tnef_string(v, 1, codepage);
	if (tnef_prop(&tnef->MapiProperties, PT_STRING8, PR_BODY, &v))
		return tnef_string(v, 0, codepage);
	if (tnef_prop(&tnef->MapiProperties, PT_BINARY, PR_BODY_HTML, &v) ||
	    tnef_prop(&tnef->MapiProperties, PT_STRING8, PR_BODY_HTML, &v)) {
		char *html = tnef_string(v, 0, codepage);
		char *text = parse_html_to_text(html, strlen(html), NULL);

		g_free(html);
		*html_r = 1;
		return text;
	}
	if (tnef_prop(&tnef->MapiProperties, PT_BINARY, PR_RTF_COMPRESSED, &v)) {
		int size = 0;
		BYTE *rtf = DecompressRTF(v, &size);
		char *text = NULL;

		if (rtf != NULL && size > 0)
			text = parse_rtf_to_text((const char *)rtf, (size_t)size);
		free(rtf);
		return text;
	}
	return NULL;
}

int message_tnef_read(struct parsed_message *msg, const unsigned char *data, size_t len,
		      char **body_r, int *body_html_r)
{
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
	copy = g_memdup2(data, len);
	TNEFInitialize(&tnef);
	tnef.Debug = 0;
	ret = TNEFParseMemory(copy, (long)len, &tnef);
	if (ret < 0) {
		TNEFFree(&tnef);
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
	*body_r = tnef_body(&tnef, codepage, body_html_r);
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
	TNEFFree(&tnef);
	g_free(copy);
	return IMI_OK;
}

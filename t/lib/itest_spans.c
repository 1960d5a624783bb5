/* itest_spans.c - reading the JSON-lines span files, checked, integers optionally exact. */
#include "itest.h"
#include "itest_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEST_INT_MARK "#itest-int#"

bool itest_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        uint32_t min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1fu;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0fu;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Add span to sp. Returns 0 or -1. */
static int spans_push(itest_spans *sp, cJSON *span)
{
    cJSON **v = realloc(sp->v, (sp->n + 1) * sizeof(*v));

    if (v == NULL)
        return -1;
    sp->v = v;
    sp->v[sp->n++] = span;
    return 0;
}

/* Parse one line (len bytes at line, not NUL-terminated) onto sp. */
static int parse_line(itest_spans *sp, const char *line, size_t len, size_t lineno, char *why,
                      size_t whylen)
{
    const char *end = NULL;
    cJSON *span;

    if (!itest_utf8_valid(line, len)) {
        snprintf(why, whylen, "line %zu is not valid UTF-8", lineno);
        return -1;
    }
    span = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (span == NULL || !cJSON_IsObject(span) || end != line + len) {
        snprintf(why, whylen, "line %zu is not one JSON object: %.120s", lineno, line);
        cJSON_Delete(span);
        return -1;
    }
    if (spans_push(sp, span) != 0) {
        cJSON_Delete(span);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

/* What reads one non-empty line (len bytes at line, not NUL-terminated)
 * onto sp: 0, or -1 with a reason in why. */
typedef int (*line_fn)(itest_spans *sp, const char *line, size_t len, size_t lineno, char *why,
                       size_t whylen);

/* Read the file at path into out, each line through fn. A missing file is
 * no spans; a last line without a newline is an error. */
static int read_lines(const char *path, itest_spans *out, line_fn fn, char *why, size_t whylen)
{
    size_t len = 0;
    char *text;
    size_t lineno = 0;

    memset(out, 0, sizeof(*out));
    if (whylen > 0)
        why[0] = '\0';
    text = itest_read_file(path, &len);
    if (text == NULL)
        return errno == ENOENT ? 0 : -1;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t llen = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

        lineno++;
        if (nl == NULL) {
            snprintf(why, whylen, "line %zu has no newline", lineno);
            free(text);
            itest_spans_free(out);
            return -1;
        }
        if (llen > 0 && fn(out, text + pos, llen, lineno, why, whylen) != 0) {
            free(text);
            itest_spans_free(out);
            return -1;
        }
        pos += llen + 1;
    }
    free(text);
    return 0;
}

int itest_spans_read(const char *path, itest_spans *out, char *why, size_t whylen)
{
    return read_lines(path, out, parse_line, why, whylen);
}

void itest_spans_free(itest_spans *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        cJSON_Delete(sp->v[i]);
    free(sp->v);
    sp->v = NULL;
    sp->n = 0;
}

/* Copy of the JSON text line[0..len) with every integer number written as
 * {"#itest-int#":"DIGITS"}; heap, NUL-terminated. NULL when out of memory. */
static char *mark_ints(const char *line, size_t len)
{
    static const char pre[] = "{\"" ITEST_INT_MARK "\":\"";
    char *out = malloc(len * (sizeof(pre) + 2) + 1);
    size_t o = 0;
    bool in_str = false;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        char c = line[i];
        if (in_str) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len)
                out[o++] = line[++i];
            else if (c == '"')
                in_str = false;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            bool integer = true;
            while (j < len && strchr("+-0123456789.eE", line[j]) != NULL) {
                if (strchr(".eE", line[j]) != NULL)
                    integer = false;
                j++;
            }
            if (integer) {
                memcpy(out + o, pre, sizeof(pre) - 1);
                o += sizeof(pre) - 1;
            }
            memcpy(out + o, line + i, j - i);
            o += j - i;
            if (integer) {
                memcpy(out + o, "\"}", 2);
                o += 2;
            }
            i = j;
        } else {
            in_str = c == '"';
            out[o++] = c;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

/* Replace every marked object below node by a Raw item of its digits. */
static int unmark_ints(cJSON *node)
{
    cJSON *child = node != NULL ? node->child : NULL;

    while (child != NULL) {
        cJSON *next = child->next;
        const cJSON *mark = cJSON_GetObjectItemCaseSensitive(child, ITEST_INT_MARK);
        if (cJSON_IsObject(child) && cJSON_IsString(mark) && child->child == mark &&
            mark->next == NULL) {
            cJSON *raw = cJSON_CreateRaw(mark->valuestring);
            if (raw == NULL)
                return -1;
            if (cJSON_IsObject(node)) {
                if (!cJSON_ReplaceItemInObjectCaseSensitive(node, child->string, raw))
                    return -1;
            } else if (!cJSON_ReplaceItemViaPointer(node, child, raw)) {
                return -1;
            }
        } else if (unmark_ints(child) != 0) {
            return -1;
        }
        child = next;
    }
    return 0;
}

/* One line as parse_line reads it, its integers kept exact (a line_fn). */
static int parse_line_exact(itest_spans *sp, const char *line, size_t len, size_t lineno, char *why,
                            size_t whylen)
{
    char *marked = mark_ints(line, len);
    cJSON *span = marked != NULL ? cJSON_Parse(marked) : NULL;

    (void)lineno;
    free(marked);
    if (span == NULL || unmark_ints(span) != 0 || spans_push(sp, span) != 0) {
        snprintf(why, whylen, "cannot read the integers of line %.80s", line);
        cJSON_Delete(span);
        return -1;
    }
    return 0;
}

int itest_spans_read_exact(const char *path, itest_spans *out, char *why, size_t whylen)
{
    itest_spans plain;
    int rc;

    /* The same checks as itest_spans_read first: UTF-8, one object a line. */
    rc = itest_spans_read(path, &plain, why, whylen);
    itest_spans_free(&plain);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return read_lines(path, out, parse_line_exact, why, whylen);
}

bool itest_json_u64(const cJSON *item, uint64_t *out)
{
    const char *digits = NULL;
    char *end = NULL;

    if (cJSON_IsNumber(item)) {
        if (item->valuedouble < 0 || item->valuedouble >= 18446744073709551616.0 ||
            item->valuedouble != (double)(uint64_t)item->valuedouble)
            return false;
        *out = (uint64_t)item->valuedouble;
        return true;
    }
    if (cJSON_IsRaw(item) || cJSON_IsString(item))
        digits = item->valuestring;
    if (digits == NULL || *digits < '0' || *digits > '9')
        return false;
    errno = 0;
    *out = strtoull(digits, &end, 10);
    return errno == 0 && *end == '\0';
}

bool itest_json_i64(const cJSON *item, int64_t *out)
{
    const char *digits = NULL;
    char *end = NULL;

    if (cJSON_IsNumber(item)) {
        if (item->valuedouble != (double)(int64_t)item->valuedouble)
            return false;
        *out = (int64_t)item->valuedouble;
        return true;
    }
    if (cJSON_IsRaw(item) || cJSON_IsString(item))
        digits = item->valuestring;
    if (digits == NULL || *digits == '\0')
        return false;
    errno = 0;
    *out = strtoll(digits, &end, 10);
    return errno == 0 && *end == '\0';
}

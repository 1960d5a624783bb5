/* view_read.c - the input of "mhd-otel view" cut into records: a line each, or one JSON object
 * written over several lines; the invalid ones counted and warned about. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define READ_REC_MAX (256u * 1024 * 1024) /* bytes of a record over several lines at most */

void mhd_otel_tool_reader_init(mhd_otel_tool_reader *r, mhd_otel_tool_store *s, const char *name,
                               FILE *err)
{
    memset(r, 0, sizeof(*r));
    r->store = s;
    r->name = name;
    r->err = err;
}

/* Append n bytes to the buffer *buf (*len used, *cap allocated), NUL-terminated. */
static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap != 0 ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (b == NULL)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* The change of bracket depth over one line (strings do not span lines in JSON). */
static long line_depth(const char *p, size_t n)
{
    long d = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            d++;
        } else if (c == '}' || c == ']') {
            d--;
        }
    }
    return d;
}

static void bad_record(mhd_otel_tool_reader *r, size_t line, const char *why)
{
    if (r->bad++ < MHD_OTEL_TOOL_WARN_MAX && r->err != NULL)
        fprintf(r->err, "mhd-otel view: %s:%zu: skipped: %s\n", r->name, line, why);
}

/* One record of the input, starting at line. */
static void record(mhd_otel_tool_reader *r, const char *p, size_t n, size_t line, uint64_t now_ms)
{
    char why[128];
    if (mhd_otel_tool_parse_record(r->store, p, n, now_ms, NULL, why, sizeof(why)) < 0)
        bad_record(r, line, why);
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* One whole line (without its newline). */
static int line_done(mhd_otel_tool_reader *r, const char *p, size_t n, uint64_t now_ms)
{
    r->line++;
    if (r->rec_len == 0) {
        if (blank(p, n))
            return 0;
        long d = line_depth(p, n);
        if (d <= 0) {
            record(r, p, n, r->line, now_ms);
            return 0;
        }
        r->rec_line = r->line;
        r->depth = d;
        return append(&r->rec, &r->rec_len, &r->rec_cap, p, n);
    }
    /* Inside an object over several lines: a line that is a whole span record of its own means
     * the object before it was cut short. */
    long d = line_depth(p, n);
    size_t lead = 0;
    while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
        lead++;
    if (d == 0 && lead < n && p[lead] == '{') {
        bool standalone = false;
        char why[128];
        int rc = mhd_otel_tool_parse_record(r->store, p, n, now_ms, &standalone, why, sizeof(why));
        if (standalone) {
            bad_record(r, r->rec_line, "unterminated JSON object");
            r->rec_len = 0;
            if (rc < 0)
                bad_record(r, r->line, why);
            return 0;
        }
    }
    if (append(&r->rec, &r->rec_len, &r->rec_cap, "\n", 1) != 0 ||
        append(&r->rec, &r->rec_len, &r->rec_cap, p, n) != 0)
        return -1;
    r->depth += d;
    if (r->depth <= 0) {
        record(r, r->rec, r->rec_len, r->rec_line, now_ms);
        r->rec_len = 0;
    } else if (r->rec_len > READ_REC_MAX) {
        bad_record(r, r->rec_line, "JSON object too large");
        r->rec_len = 0;
    }
    return 0;
}

int mhd_otel_tool_reader_feed(mhd_otel_tool_reader *r, const char *data, size_t n, uint64_t now_ms)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t k = nl != NULL ? (size_t)(nl - data) : n;
        if (nl == NULL)
            return append(&r->part, &r->part_len, &r->part_cap, data, k);
        int rc;
        if (r->part_len == 0) {
            rc = line_done(r, data, k, now_ms);
        } else {
            rc = append(&r->part, &r->part_len, &r->part_cap, data, k);
            if (rc == 0)
                rc = line_done(r, r->part, r->part_len, now_ms);
            r->part_len = 0;
        }
        if (rc != 0)
            return -1;
        data += k + 1;
        n -= k + 1;
    }
    return 0;
}

int mhd_otel_tool_reader_finish(mhd_otel_tool_reader *r, uint64_t now_ms)
{
    int rc = 0;
    if (r->part_len > 0) {
        rc = line_done(r, r->part, r->part_len, now_ms);
        r->part_len = 0;
    }
    if (r->rec_len > 0)
        bad_record(r, r->rec_line, "unterminated JSON object");
    if (r->bad > MHD_OTEL_TOOL_WARN_MAX && r->err != NULL)
        fprintf(r->err, "mhd-otel view: %s: %zu invalid lines in all (%zu more not shown)\n",
                r->name, r->bad, r->bad - MHD_OTEL_TOOL_WARN_MAX);
    else if (r->bad > 0 && r->err != NULL)
        fprintf(r->err, "mhd-otel view: %s: %zu invalid line%s\n", r->name, r->bad,
                r->bad == 1 ? "" : "s");
    free(r->part);
    free(r->rec);
    r->part = r->rec = NULL;
    r->part_cap = r->rec_cap = r->rec_len = 0;
    return rc;
}

/* test_man.c - tests of man/: the directive entries of mhd-otel.conf.5 against module/conf.c's
 * table, the functions of libmhd-otel.3 against the public headers, the OTEL_* variables every
 * page names against those the library reads. Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/otel.h>
#include "../../module/conf.h"
#include "../../module/conf_int.h"

#define MAN_CONF "man/mhd-otel.conf.5"
#define MAN_LIB "man/libmhd-otel.3"
#define MAN_TOOL "man/mhd-otel.1"

/* The public headers at their current paths, and whether libmhd-otel.3 must document every
 * function the header declares. */
#define MAN_HEADERS(X)                                                                             \
    X("include/mhd-otel/otel.h", false)                                                            \
    X("include/mhd-otel/propagation.h", false)                                                     \
    X("include/mhd-otel/client.h", false)                                                          \
    X("include/mhd-otel/mhd_otel.h", true)                                                         \
    X("include/mhd-otel/mhd_otel_curl.h", true)

/* OTEL_* variables the library reads that are no row's (conf_env.c reads them itself). */
static const char *const extra_env[] = {"OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_EXPORTER",
                                        "OTEL_EXPORTER_PROMETHEUS_HOST",
                                        "OTEL_EXPORTER_PROMETHEUS_PORT"};

static const struct {
    const char *path;
    bool covered;
} headers[] = {
#define MAN_HEADER_ROW(path, covered) {path, covered},
    MAN_HEADERS(MAN_HEADER_ROW)
#undef MAN_HEADER_ROW
};

#define N_HEADERS (sizeof(headers) / sizeof(headers[0]))
#define LINE_MAX_TEXT 1024 /* bytes of one line's plain text */
#define REPORT_MAX 8192

/* ---- helpers ------------------------------------------------------------- */

/* Problems found, one per line. */
typedef struct report {
    char buf[REPORT_MAX];
    size_t len;
    int n;
} report;

__attribute__((format(printf, 2, 3))) static void problem(report *r, const char *fmt, ...)
{
    va_list ap;
    r->n++;
    if (r->len + 2 >= sizeof(r->buf))
        return;
    va_start(ap, fmt);
    int k = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len - 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    r->len += (size_t)k < sizeof(r->buf) - r->len - 1 ? (size_t)k : sizeof(r->buf) - r->len - 2;
    r->buf[r->len++] = '\n';
    r->buf[r->len] = '\0';
}

/* The whole file as a NUL-terminated string (the caller frees). */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (the tests run from the repository root)", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap != 0 ? cap * 2 : 16384;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* A copy of text with its first "from" replaced by "to" (the caller frees). */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (at == NULL)
        fail_msg("the page has no \"%s\" to change", from);
    size_t head = (size_t)(at - text), nf = strlen(from), nt = strlen(to);
    size_t tail = strlen(at + nf);
    char *out = malloc(head + nt + tail + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, to, nt);
    memcpy(out + head + nt, at + nf, tail + 1);
    return out;
}

/* The next line of *text (without its "\n") into line (cap bytes, cut); false at the end. */
static bool next_line(const char **text, char *line, size_t cap)
{
    if (**text == '\0')
        return false;
    size_t n = strcspn(*text, "\n");
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(line, *text, k);
    line[k] = '\0';
    *text += n + ((*text)[n] == '\n' ? 1 : 0);
    return true;
}

/* src into dst (cap bytes), cut to fit. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Append c to out (cap bytes) at *len. */
static void put(char *out, size_t cap, size_t *len, char c)
{
    if (*len + 1 < cap)
        out[(*len)++] = c;
    out[*len] = '\0';
}

/* The plain text of roff text s (n bytes): font escapes removed, \- \e \& \(dq \(aq and
 * "\ " resolved; *cont set when it ends in \c (the next line continues it). */
static void unescape(const char *s, size_t n, char *out, size_t cap, size_t *len, bool *cont)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            put(out, cap, len, s[i]);
            continue;
        }
        char e = s[++i];
        if (e == 'f' && i + 1 < n) { /* \fB, \f(CW, \f[B] */
            if (s[i + 1] == '(')
                i += 3;
            else if (s[i + 1] == '[')
                while (i < n && s[i] != ']')
                    i++;
            else
                i++;
        } else if (e == '(' && i + 2 < n) {
            put(out, cap, len, s[i + 1] == 'd' && s[i + 2] == 'q' ? '"' : '\'');
            i += 2;
        } else if (e == 'c') {
            *cont = true;
        } else if (e == '-' || e == ' ') {
            put(out, cap, len, e);
        } else if (e == 'e') {
            put(out, cap, len, '\\');
        } else if (e != '&' && e != '%') {
            put(out, cap, len, '\\');
            put(out, cap, len, e);
        }
    }
}

/* A roff line as plain text into out: a text line unescaped; a macro line (".B a b", ".BI a
 * b") its arguments, quotes removed, joined by blanks (.B, .I) or not (.BI, .BR, ...).
 * macro gets the macro's name ("" for a text line). Returns whether the line ends in \c. */
static bool roff_text(const char *line, char *macro, size_t mcap, char *out, size_t cap)
{
    size_t len = 0;
    bool cont = false;
    out[0] = macro[0] = '\0';
    if (line[0] != '.' && line[0] != '\'') {
        unescape(line, strlen(line), out, cap, &len, &cont);
        return cont;
    }
    const char *p = line + 1;
    size_t m = strcspn(p, " \t");
    snprintf(macro, mcap, "%.*s", (int)m, p);
    bool alternating = m == 2 && strchr("BIR", p[0]) != NULL && strchr("BIR", p[1]) != NULL;
    p += m;
    for (bool first = true;; first = false) {
        p += strspn(p, " \t");
        if (*p == '\0')
            break;
        size_t n;
        if (*p == '"') {
            p++;
            n = strcspn(p, "\"");
        } else {
            n = strcspn(p, " \t");
        }
        if (!first && !alternating)
            put(out, cap, &len, ' ');
        cont = false;
        unescape(p, n, out, cap, &len, &cont);
        p += n;
        if (*p == '"')
            p++;
    }
    return cont;
}

static bool is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* True when word occurs in text as a whole word. */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word))
        if ((p == text || !is_word(p[-1])) && !is_word(p[n]))
            return true;
    return false;
}

/* ---- OTEL_* variables ---------------------------------------------------- */

static bool env_known(const char *name)
{
    for (size_t i = 0; i < sizeof(extra_env) / sizeof(extra_env[0]); i++)
        if (strcmp(extra_env[i], name) == 0)
            return true;
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++)
        for (size_t k = 0; k < 2; k++)
            if (cmd->env[k] != NULL && strcmp(cmd->env[k], name) == 0)
                return true;
    return false;
}

/* C source without its comments, and without its preprocessor lines unless pp (the caller
 * frees). */
static char *strip_c(const char *src, bool pp);

/* True when word is an identifier of the public headers' code (OTEL_OK, OTEL_SPAN_KIND_SERVER). */
static bool api_word(const char *word)
{
    bool found = false;
    for (size_t h = 0; h < N_HEADERS && !found; h++) {
        char *src = read_text(headers[h].path);
        char *code = strip_c(src, true);
        found = has_word(code, word);
        free(code);
        free(src);
    }
    return found;
}

/* Every OTEL_X word of the page is a variable the library reads, or an identifier of the
 * public headers (a word ending in "_", as in "OTEL_*", is a prefix and not checked). */
static void check_env_names(const char *page, const char *text, report *r)
{
    char line[LINE_MAX_TEXT], plain[LINE_MAX_TEXT], macro[8];
    size_t no = 0;
    while (next_line(&text, line, sizeof(line))) {
        no++;
        if (strncmp(line, ".\\\"", 3) == 0)
            continue;
        roff_text(line, macro, sizeof(macro), plain, sizeof(plain));
        for (const char *p = strstr(plain, "OTEL_"); p != NULL; p = strstr(p + 1, "OTEL_")) {
            if (p != plain && is_word(p[-1]))
                continue;
            size_t n = 0;
            while (is_word(p[n]))
                n++;
            char name[96];
            snprintf(name, sizeof(name), "%.*s", (int)n, p);
            if (name[n - 1] != '_' && !env_known(name) && !api_word(name))
                problem(r, "%s:%zu: %s is no variable mhd-otel reads", page, no, name);
        }
    }
}

/* ---- mhd-otel.conf.5 ----------------------------------------------------- */

static const char *block_label(conf_block b)
{
    switch (b) {
    case CONF_MAIN:
        return "main";
    case CONF_BATCH:
        return "otel_batch";
    case CONF_CONSOLE:
        return "otel_exporter console";
    case CONF_OTLP:
        return "otel_exporter otlp";
    case CONF_METRICS:
        return "otel_metrics";
    }
    return "?";
}

/* One directive entry of the page. */
typedef struct entry {
    size_t line;         /* of its tag */
    char tag[160];       /* the tag's text */
    char context[160];   /* after "Context: " */
    char def[160];       /* after "Default: " */
    bool has_env;        /* an "Environment:" line */
    char text[4096];     /* all of it, lines joined by blanks */
    const conf_cmd *cmd; /* its row, NULL: none */
} entry;

#define MAX_ENTRIES 64

/* "Label: rest" in plain: rest into out when plain starts with label. */
static bool field(const char *plain, const char *label, char *out, size_t cap)
{
    size_t n = strlen(label);
    if (strncmp(plain, label, n) != 0)
        return false;
    copy_str(out, cap, plain + n + strspn(plain + n, " "));
    return true;
}

static const char *block_label(conf_block b);

/* The row an entry's tag names: its first word, and for a directive with types (otel_exporter)
 * the type after it; of rows of one name in several blocks (timeout), the one of the entry's
 * context, else the first. */
static const conf_cmd *tag_row(const char *tag, const char *context, char *label, size_t cap)
{
    size_t n = strcspn(tag, " ;{");
    const char *type = NULL;
    size_t tn = 0;
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++)
        if (strlen(cmd->name) == n && strncmp(cmd->name, tag, n) == 0 && cmd->type != NULL) {
            type = tag + n + strspn(tag + n, " ");
            tn = strcspn(type, " ;{");
            break;
        }
    snprintf(label, cap, "%.*s%s%.*s", (int)n, tag, type != NULL ? " " : "", (int)tn,
             type != NULL ? type : "");
    const conf_cmd *first = NULL;
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++) {
        if (strlen(cmd->name) != n || strncmp(cmd->name, tag, n) != 0)
            continue;
        if (cmd->type == NULL ||
            (type != NULL && strlen(cmd->type) == tn && strncmp(cmd->type, type, tn) == 0)) {
            const char *block = block_label(cmd->block);
            if (strncmp(context, block, strlen(block)) == 0)
                return cmd;
            if (first == NULL)
                first = cmd;
        }
    }
    return first;
}

/* The entries of the DIRECTIVES section (the convention at the top of the page). */
static size_t conf_entries(const char *text, entry *e, size_t max, report *r)
{
    char line[LINE_MAX_TEXT], plain[LINE_MAX_TEXT], macro[8];
    size_t n = 0, no = 0;
    bool in_section = false, want_tag = false, open = false, cont = false;
    while (next_line(&text, line, sizeof(line))) {
        no++;
        if (strncmp(line, ".\\\"", 3) == 0)
            continue;
        bool was_cont = cont;
        cont = roff_text(line, macro, sizeof(macro), plain, sizeof(plain));
        if (strcmp(macro, "SH") == 0) {
            in_section = strcmp(plain, "DIRECTIVES") == 0;
            open = want_tag = false;
            continue;
        }
        if (!in_section)
            continue;
        if (strcmp(macro, "TP") == 0) {
            open = false;
            want_tag = true;
            continue;
        }
        if (want_tag) {
            want_tag = false;
            if (macro[0] != 'B') {
                problem(r, MAN_CONF ":%zu: the tag of a directive is not a .B line", no);
                continue;
            }
            if (n == max)
                fail_msg(MAN_CONF ": more than %zu directive entries", max);
            memset(&e[n], 0, sizeof(e[n]));
            e[n].line = no;
            copy_str(e[n].tag, sizeof(e[n].tag), plain);
            open = true;
            n++;
            continue;
        }
        if (strcmp(macro, "SS") == 0 || strcmp(macro, "PP") == 0 || strcmp(macro, "LP") == 0 ||
            strcmp(macro, "P") == 0) {
            open = false;
            continue;
        }
        if (!open)
            continue;
        entry *cur = &e[n - 1];
        size_t len = strlen(cur->text);
        snprintf(cur->text + len, sizeof(cur->text) - len, "%s%s", len == 0 || was_cont ? "" : " ",
                 plain);
        if (!was_cont && field(plain, "Context:", cur->context, sizeof(cur->context)))
            continue;
        if (!was_cont && cur->def[0] == '\0' &&
            field(plain, "Default:", cur->def, sizeof(cur->def)))
            continue;
        if (!was_cont && strncmp(plain, "Environment:", 12) == 0)
            cur->has_env = true;
    }
    return n;
}

/* The default the table has for cmd, in the file's syntax, into out; false when it has none.
 * otel_batch's rows take theirs from the core (otel_tracer_config_default). */
static bool table_default(const conf_cmd *cmd, char *out, size_t cap)
{
    if (cmd->def != NULL) {
        copy_str(out, cap, cmd->def);
        return true;
    }
    if (cmd->block != CONF_BATCH || cmd->size == 0)
        return false;
    mhd_otel_conf c;
    memset(&c, 0, sizeof(c));
    otel_tracer_config_default(&c.batch);
    const void *f = mhd_otel_conf_field(&c, cmd);
    if (cmd->set == mhd_otel_conf_set_size) {
        snprintf(out, cap, "%zu", *(const size_t *)f);
        return true;
    }
    if (cmd->set == mhd_otel_conf_set_time) {
        uint64_t ns = *(const uint64_t *)f;
        if (ns % 1000000000u == 0)
            snprintf(out, cap, "%llus", (unsigned long long)(ns / 1000000000u));
        else
            snprintf(out, cap, "%llums", (unsigned long long)(ns / 1000000u));
        return true;
    }
    fail_msg("%s: no way to show the default of this row's setter", cmd->name);
    return false;
}

/* True when the page's "Default:" text begins with the words of def (blanks and commas both
 * separate words; the page's last word may carry "." "," ";" after it). */
static bool default_matches(const char *page, const char *def)
{
    static const char sep[] = " ,";
    for (;;) {
        def += strspn(def, sep);
        page += strspn(page, sep);
        if (*def == '\0')
            return true;
        size_t n = strcspn(def, sep), m = strcspn(page, sep);
        while (m > 0 && strchr(".,;", page[m - 1]) != NULL)
            m--;
        if (n != m || strncmp(def, page, n) != 0)
            return false;
        def += n;
        page += strcspn(page, sep);
    }
}

/* Every problem of the page text against the table into r. */
static void check_conf_page(const char *text, report *r)
{
    static entry e[MAX_ENTRIES];
    char label[160], want[160];
    size_t n = conf_entries(text, e, MAX_ENTRIES, r);
    for (size_t i = 0; i < n; i++) {
        e[i].cmd = tag_row(e[i].tag, e[i].context, label, sizeof(label));
        if (e[i].cmd == NULL) {
            problem(r, MAN_CONF ":%zu: entry \"%s\" is no directive of module/conf.c's table",
                    e[i].line, label);
            continue;
        }
        for (size_t k = 0; k < i; k++)
            if (e[k].cmd == e[i].cmd)
                problem(r, MAN_CONF ":%zu: directive \"%s\" has a second entry (first at %zu)",
                        e[i].line, label, e[k].line);
        const char *block = block_label(e[i].cmd->block);
        size_t bn = strlen(block);
        if (strncmp(e[i].context, block, bn) != 0 || is_word(e[i].context[bn]))
            problem(r, MAN_CONF ":%zu: directive \"%s\": Context is \"%s\", expected \"%s\"",
                    e[i].line, label, e[i].context, block);
        if (e[i].def[0] == '\0')
            problem(r, MAN_CONF ":%zu: directive \"%s\" has no \"Default:\" line", e[i].line,
                    label);
        else if (table_default(e[i].cmd, want, sizeof(want)) && !default_matches(e[i].def, want))
            problem(r, MAN_CONF ":%zu: directive \"%s\": Default is \"%s\", the table says \"%s\"",
                    e[i].line, label, e[i].def, want);
        if (e[i].cmd->env[0] != NULL && !e[i].has_env)
            problem(r, MAN_CONF ":%zu: directive \"%s\" has no \"Environment:\" line", e[i].line,
                    label);
        for (size_t k = 0; k < 2; k++)
            if (e[i].cmd->env[k] != NULL && !has_word(e[i].text, e[i].cmd->env[k]))
                problem(r, MAN_CONF ":%zu: directive \"%s\" does not name its variable %s",
                        e[i].line, label, e[i].cmd->env[k]);
    }
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++) {
        size_t i = 0;
        while (i < n && e[i].cmd != cmd)
            i++;
        if (i == n)
            problem(r, MAN_CONF ": no entry for directive \"%s%s%s\" (context %s)", cmd->name,
                    cmd->type != NULL ? " " : "", cmd->type != NULL ? cmd->type : "",
                    block_label(cmd->block));
    }
}

/* ---- libmhd-otel.3 ------------------------------------------------------- */

#define MAX_NAMES 256

typedef struct names {
    char v[MAX_NAMES][64];
    size_t n;
} names;

static void names_add(names *ns, const char *s, size_t n)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strlen(ns->v[i]) == n && strncmp(ns->v[i], s, n) == 0)
            return;
    if (ns->n == MAX_NAMES)
        fail_msg("more than %d function names", MAX_NAMES);
    snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%.*s", (int)n, s);
}

static bool names_has(const names *ns, const char *s)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0)
            return true;
    return false;
}

static char *strip_c(const char *src, bool pp)
{
    size_t n = strlen(src), j = 0;
    char *out = malloc(n + 1);
    assert_non_null(out);
    bool bol = true;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '/' && src[i + 1] == '*') {
            const char *end = strstr(src + i + 2, "*/");
            i = end != NULL ? (size_t)(end - src) + 1 : n;
            out[j++] = ' ';
            continue;
        }
        if (!pp && bol && src[i] == '#') {
            while (i < n && (src[i] != '\n' || src[i - 1] == '\\'))
                i++;
        }
        if (i < n)
            out[j++] = src[i];
        bol = i < n && src[i] == '\n';
    }
    out[j] = '\0';
    return out;
}

/* The functions a header declares: identifiers outside any parentheses directly followed by
 * "(" (the headers are clang-formatted). */
static void header_functions(const char *src, names *ns)
{
    char *s = strip_c(src, false);
    int depth = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if (depth != 0 || !(isalpha((unsigned char)*p) || *p == '_') || (p > s && is_word(p[-1])))
            continue;
        size_t n = 0;
        while (is_word(p[n]))
            n++;
        if (p[n] == '(' && strncmp(p, "__", 2) != 0)
            names_add(ns, p, n);
        p += n - 1;
    }
    free(s);
}

/* True when NAME( occurs in a header (comments aside). */
static bool header_has(const char *const *srcs, const char *name)
{
    size_t n = strlen(name);
    for (size_t h = 0; h < N_HEADERS; h++) {
        char *s = strip_c(srcs[h], true);
        bool found = false;
        for (const char *p = strstr(s, name); p != NULL && !found; p = strstr(p + 1, name))
            found = (p == s || !is_word(p[-1])) && p[n] == '(';
        free(s);
        if (found)
            return true;
    }
    return false;
}

/* The SYNOPSIS section as plain text (lines joined by blanks) into syn, the rest of the page
 * into rest. */
static void lib_sections(const char *text, char *syn, size_t scap, char *rest, size_t rcap)
{
    char line[LINE_MAX_TEXT], plain[LINE_MAX_TEXT], macro[8];
    size_t sl = 0, rl = 0;
    bool in_syn = false;
    syn[0] = rest[0] = '\0';
    while (next_line(&text, line, sizeof(line))) {
        if (strncmp(line, ".\\\"", 3) == 0)
            continue;
        roff_text(line, macro, sizeof(macro), plain, sizeof(plain));
        if (strcmp(macro, "SH") == 0)
            in_syn = strcmp(plain, "SYNOPSIS") == 0;
        char *out = in_syn ? syn : rest;
        size_t *len = in_syn ? &sl : &rl, cap = in_syn ? scap : rcap;
        int k = snprintf(out + *len, cap - *len, " %s", plain);
        if (k > 0)
            *len += (size_t)k < cap - *len ? (size_t)k : cap - *len - 1;
    }
}

/* Every problem of the library page text against the headers into r. */
static void check_lib_page(const char *text, report *r)
{
    static char syn[65536], rest[262144];
    static names in_syn, declared;
    const char *srcs[N_HEADERS];
    char *owned[N_HEADERS];
    in_syn.n = declared.n = 0;
    for (size_t h = 0; h < N_HEADERS; h++) {
        srcs[h] = owned[h] = read_text(headers[h].path);
        if (headers[h].covered)
            header_functions(srcs[h], &declared);
    }
    lib_sections(text, syn, sizeof(syn), rest, sizeof(rest));
    for (const char *p = syn; *p != '\0'; p++) {
        if (!(isalpha((unsigned char)*p) || *p == '_') || (p > syn && is_word(p[-1])))
            continue;
        size_t n = 0;
        while (is_word(p[n]))
            n++;
        if (p[n] == '(')
            names_add(&in_syn, p, n);
        p += n - 1;
    }
    for (const char *p = strstr(syn, "#include <mhd-otel/"); p != NULL;
         p = strstr(p + 1, "#include <mhd-otel/")) {
        const char *name = p + strlen("#include <mhd-otel/");
        size_t n = strcspn(name, ">"), h = 0;
        while (h < N_HEADERS) {
            const char *base = strrchr(headers[h].path, '/');
            base = base != NULL ? base + 1 : headers[h].path;
            if (strlen(base) == n && strncmp(base, name, n) == 0)
                break;
            h++;
        }
        if (h == N_HEADERS)
            problem(r, MAN_LIB ": SYNOPSIS includes <mhd-otel/%.*s>, which is no public header",
                    (int)n, name);
    }
    for (size_t i = 0; i < in_syn.n; i++)
        if (!header_has(srcs, in_syn.v[i]))
            problem(r, MAN_LIB ": SYNOPSIS has %s(), which no public header declares", in_syn.v[i]);
    for (size_t i = 0; i < declared.n; i++) {
        if (!names_has(&in_syn, declared.v[i]))
            problem(r, MAN_LIB ": SYNOPSIS lacks %s(), declared in a public header", declared.v[i]);
        else if (!has_word(rest, declared.v[i]))
            problem(r, MAN_LIB ": %s() is in the SYNOPSIS but described nowhere", declared.v[i]);
    }
    for (size_t h = 0; h < N_HEADERS; h++)
        free(owned[h]);
}

/* ---- tests --------------------------------------------------------------- */

static void expect_clean(const report *r)
{
    if (r->n != 0)
        fail_msg("%d problem(s):\n%s", r->n, r->buf);
}

static void expect_problem(const report *r, const char *what)
{
    if (strstr(r->buf, what) == NULL)
        fail_msg("no problem mentions \"%s\"; found:\n%s", what, r->buf);
}

static void test_man_conf_every_directive(void **state)
{
    static report r;
    (void)state;
    char *text = read_text(MAN_CONF);
    memset(&r, 0, sizeof(r));
    check_conf_page(text, &r);
    check_env_names(MAN_CONF, text, &r);
    free(text);
    expect_clean(&r);
}

static void test_man_conf_missing_and_stale(void **state)
{
    static report r;
    (void)state;
    char *page = read_text(MAN_CONF);
    char *text = replace_once(page, ".BI \"endpoint \" URL ;", ".BI \"endpoinx \" URL ;");
    memset(&r, 0, sizeof(r));
    check_conf_page(text, &r);
    expect_problem(&r, "no entry for directive \"endpoint\" (context otel_exporter otlp)");
    expect_problem(&r, "entry \"endpoinx\" is no directive");
    free(text);
    free(page);
}

static void test_man_conf_wrong_default(void **state)
{
    static report r;
    (void)state;
    char *page = read_text(MAN_CONF);
    char *text = replace_once(page, "Default: \\fB30s\\fR", "Default: \\fB20s\\fR");
    memset(&r, 0, sizeof(r));
    check_conf_page(text, &r);
    expect_problem(&r, "directive \"export_timeout\": Default is \"20s.\", the table says \"30s\"");
    free(text);
    free(page);
}

static void test_man_conf_wrong_context(void **state)
{
    static report r;
    (void)state;
    char *page = read_text(MAN_CONF);
    char *text = replace_once(page, "Context: \\fBotel_batch\\fR", "Context: \\fBmain\\fR");
    memset(&r, 0, sizeof(r));
    check_conf_page(text, &r);
    expect_problem(&r, "directive \"max_queue_size\": Context is \"main.\"");
    free(text);
    free(page);
}

static void test_man_conf_missing_env(void **state)
{
    static report r;
    (void)state;
    char *page = read_text(MAN_CONF);
    char *text = replace_once(page, "Environment: \\fBOTEL_BSP_SCHEDULE_DELAY\\fR",
                              "Environment: \\fBOTEL_BSP_SCHEDULE\\fR");
    memset(&r, 0, sizeof(r));
    check_conf_page(text, &r);
    check_env_names(MAN_CONF, text, &r);
    expect_problem(&r, "directive \"schedule_delay\" does not name its variable "
                       "OTEL_BSP_SCHEDULE_DELAY");
    expect_problem(&r, "OTEL_BSP_SCHEDULE is no variable mhd-otel reads");
    free(text);
    free(page);
}

static void test_man_lib_functions(void **state)
{
    static report r;
    (void)state;
    char *text = read_text(MAN_LIB);
    memset(&r, 0, sizeof(r));
    check_lib_page(text, &r);
    check_env_names(MAN_LIB, text, &r);
    free(text);
    expect_clean(&r);
}

static void test_man_lib_missing_and_unknown(void **state)
{
    static report r;
    (void)state;
    char *page = read_text(MAN_LIB);
    char *text = replace_once(page, "void mhd_otel_stats(", "void mhd_otel_statz(");
    memset(&r, 0, sizeof(r));
    check_lib_page(text, &r);
    expect_problem(&r, "SYNOPSIS has mhd_otel_statz(), which no public header declares");
    expect_problem(&r, "SYNOPSIS lacks mhd_otel_stats(), declared in a public header");
    free(text);
    free(page);
}

static void test_man_tool_env(void **state)
{
    static report r;
    (void)state;
    char *text = read_text(MAN_TOOL);
    memset(&r, 0, sizeof(r));
    check_env_names(MAN_TOOL, text, &r);
    free(text);
    expect_clean(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_man_conf_every_directive),
        cmocka_unit_test(test_man_conf_missing_and_stale),
        cmocka_unit_test(test_man_conf_wrong_default),
        cmocka_unit_test(test_man_conf_wrong_context),
        cmocka_unit_test(test_man_conf_missing_env),
        cmocka_unit_test(test_man_lib_functions),
        cmocka_unit_test(test_man_lib_missing_and_unknown),
        cmocka_unit_test(test_man_tool_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* view_render.c - one trace drawn as a waterfall: a header line, then its span tree in start
 * order, each span with its duration, status and a time bar; and the per-trace filters. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_CYAN "\033[36m"

#define BAR_CELL "\xe2\x96\x88" /* U+2588 FULL BLOCK */
#define DUR_COLS 8
#define STATUS_COLS 5
#define SERVICES_SHOWN 8

/* A span's place in the sorted order: its parent's index (top level: NONE), then start. */
typedef struct render_key {
    size_t parent;
    uint64_t start;
    size_t idx;
} render_key;

#define NONE ((size_t)-1)

/* The tree of one trace: children of each span in order, the top-level spans. */
typedef struct render_tree {
    const mhd_otel_tool_trace *t;
    size_t *parent;    /* per span: its parent's index, NONE */
    render_key *order; /* sorted by (parent, start, arrival) */
    size_t *first;     /* per span: the first of its children in order; NONE */
    size_t *count;     /* per span: how many children */
    size_t top, ntop;  /* the top-level spans in order: order[top..top+ntop) */
    bool *seen;
    bool *last; /* per depth: the span there is the last child */
} render_tree;

/* ---- filters ------------------------------------------------------------- */

static void trace_hex(const mhd_otel_tool_trace *t, char out[33])
{
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, t->hi, t->lo);
}

bool mhd_otel_tool_trace_matches(const mhd_otel_tool_trace *t, const mhd_otel_tool_render *o)
{
    if (o->trace != NULL) {
        char id[33];
        trace_hex(t, id);
        if (strcasecmp(id, o->trace) != 0)
            return false;
    }
    if (o->errors && !t->has_error)
        return false;
    if (t->end - t->start < o->min_duration)
        return false;
    if (o->service != NULL) {
        size_t i = 0;
        while (i < t->n && strcmp(t->spans[i].service, o->service) != 0)
            i++;
        if (i == t->n)
            return false;
    }
    return true;
}

static int cmp_trace(const void *a, const void *b)
{
    const mhd_otel_tool_trace *x = *(mhd_otel_tool_trace *const *)a;
    const mhd_otel_tool_trace *y = *(mhd_otel_tool_trace *const *)b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void mhd_otel_tool_traces_sort(mhd_otel_tool_trace **v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_trace);
}

/* ---- the tree ------------------------------------------------------------ */

static int cmp_key(const void *a, const void *b)
{
    const render_key *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint64_t id_hash(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

/* Each span's parent by span id, through an open-addressing table (first span of an id wins). */
static int link_parents(render_tree *r)
{
    const mhd_otel_tool_trace *t = r->t;
    size_t cap = 16;
    while (cap < t->n * 2)
        cap *= 2;
    size_t *slot = malloc(cap * sizeof(*slot));
    if (slot == NULL)
        return -1;
    memset(slot, 0xff, cap * sizeof(*slot));
    for (size_t i = 0; i < t->n; i++) {
        size_t h = (size_t)id_hash(t->spans[i].span_id) & (cap - 1);
        while (slot[h] != NONE && t->spans[slot[h]].span_id != t->spans[i].span_id)
            h = (h + 1) & (cap - 1);
        if (slot[h] == NONE)
            slot[h] = i;
    }
    for (size_t i = 0; i < t->n; i++) {
        uint64_t p = t->spans[i].parent_id;
        r->parent[i] = NONE;
        if (p == 0)
            continue;
        size_t h = (size_t)id_hash(p) & (cap - 1);
        while (slot[h] != NONE && t->spans[slot[h]].span_id != p)
            h = (h + 1) & (cap - 1);
        r->parent[i] = slot[h];
    }
    free(slot);
    return 0;
}

static void tree_free(render_tree *r)
{
    free(r->parent);
    free(r->order);
    free(r->first);
    free(r->count);
    free(r->seen);
    free(r->last);
}

static int tree_build(render_tree *r, const mhd_otel_tool_trace *t)
{
    size_t n = t->n;
    memset(r, 0, sizeof(*r));
    r->t = t;
    r->parent = malloc(n * sizeof(*r->parent));
    r->order = malloc(n * sizeof(*r->order));
    r->first = malloc(n * sizeof(*r->first));
    r->count = calloc(n, sizeof(*r->count));
    r->seen = calloc(n, sizeof(*r->seen));
    r->last = calloc(n + 2, sizeof(*r->last));
    if (r->parent == NULL || r->order == NULL || r->first == NULL || r->count == NULL ||
        r->seen == NULL || r->last == NULL || link_parents(r) != 0) {
        tree_free(r);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        r->order[i] = (render_key){r->parent[i], t->spans[i].start, i};
    qsort(r->order, n, sizeof(*r->order), cmp_key);
    for (size_t i = 0; i < n; i++)
        r->first[i] = NONE;
    r->top = n;
    for (size_t k = 0; k < n; k++) {
        size_t p = r->order[k].parent;
        if (p == NONE) {
            r->top = k;
            r->ntop = n - k;
            break;
        }
        if (r->first[p] == NONE)
            r->first[p] = k;
        r->count[p]++;
    }
    return 0;
}

/* ---- one line ------------------------------------------------------------ */

/* Columns of UTF-8 text p (n bytes): one per character. */
static size_t cols(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)p[i] & 0xc0) != 0x80;
    return c;
}

/* The bytes of the first max columns of p (not cutting a character). */
static size_t cut(const char *p, size_t max)
{
    size_t c = 0, i = 0;
    for (; p[i] != '\0'; i++) {
        if (((unsigned char)p[i] & 0xc0) != 0x80 && c++ == max)
            break;
    }
    return i;
}

typedef struct line_buf {
    char b[2048];
    size_t n;
} line_buf;

static void lb_put(line_buf *lb, const char *s, size_t n)
{
    if (n > sizeof(lb->b) - 1 - lb->n)
        n = sizeof(lb->b) - 1 - lb->n;
    memcpy(lb->b + lb->n, s, n);
    lb->n += n;
    lb->b[lb->n] = '\0';
}

static void lb_str(line_buf *lb, const char *s)
{
    lb_put(lb, s, strlen(s));
}

/* The columns of the left part (tree, name, service) and of the bar for width. */
static void layout(size_t width, size_t *left, size_t *bar)
{
    size_t b = width / 3;
    b = b < 10 ? 10 : b > 80 ? 80 : b;
    size_t fixed = b + DUR_COLS + STATUS_COLS + 3;
    *left = width > fixed + 20 ? width - fixed : 20;
    *bar = b;
}

/* The tree prefix of a span at depth (0: top level) into lb; the deepest levels only when it would
 * take more than half of the left part. */
static void put_prefix(line_buf *lb, const render_tree *r, size_t depth, size_t left, bool self)
{
    size_t max = left / 6 > 1 ? left / 6 : 1, from = 1;
    if (depth > max) {
        from = depth - max + 1;
        lb_str(lb, "\xe2\x8b\xaf"); /* U+22EF: levels left out */
    }
    for (size_t d = from; d <= depth; d++) {
        if (d < depth || !self)
            lb_str(lb, r->last[d] ? "   " : "\xe2\x94\x82  "); /* "│  " */
        else
            lb_str(lb, r->last[d] ? "\xe2\x94\x94\xe2\x94\x80 " : "\xe2\x94\x9c\xe2\x94\x80 ");
    }
}

/* Cells [c0, c1) of width b for [s, e] within the trace. */
static void bar_cells(const mhd_otel_tool_trace *t, const mhd_otel_tool_span *sp, size_t b,
                      size_t *c0, size_t *c1)
{
    unsigned __int128 span = t->end - t->start;
    if (span == 0) {
        *c0 = 0;
        *c1 = b;
        return;
    }
    unsigned __int128 a = (unsigned __int128)(sp->start - t->start) * b;
    unsigned __int128 z = (unsigned __int128)(sp->end - t->start) * b;
    *c0 = (size_t)(a / span);
    *c1 = (size_t)((z + span - 1) / span);
    if (*c0 >= b)
        *c0 = b - 1;
    if (*c1 > b)
        *c1 = b;
    if (*c1 <= *c0)
        *c1 = *c0 + 1;
}

static void put_span(const render_tree *r, const mhd_otel_tool_render *o, size_t i, size_t depth,
                     const char *parent_service, FILE *out)
{
    const mhd_otel_tool_trace *t = r->t;
    const mhd_otel_tool_span *sp = &t->spans[i];
    size_t left, b;
    layout(o->width, &left, &b);
    line_buf lb = {.n = 0};
    put_prefix(&lb, r, depth, left, true);
    size_t pre = cols(lb.b, lb.n);
    lb_str(&lb, sp->name[0] != '\0' ? sp->name : "(no name)");
    bool show_service = parent_service == NULL || strcmp(parent_service, sp->service) != 0;
    if (show_service && sp->service[0] != '\0') {
        lb_str(&lb, " [");
        lb_str(&lb, sp->service);
        lb_str(&lb, "]");
    }
    size_t c = cols(lb.b, lb.n);
    if (c > left) {
        lb.n = cut(lb.b, left - 1);
        lb_str(&lb, "\xe2\x80\xa6"); /* … */
        c = left;
    }
    /* colour the service part: write the line in pieces */
    size_t name_end = lb.n;
    const char *svc = show_service && sp->service[0] != '\0' ? strstr(lb.b + pre, " [") : NULL;
    if (o->color && svc != NULL) {
        fwrite(lb.b, 1, (size_t)(svc - lb.b), out);
        fprintf(out, C_DIM "%.*s" C_RESET, (int)(name_end - (size_t)(svc - lb.b)), svc);
    } else {
        fwrite(lb.b, 1, lb.n, out);
    }
    char dur[32];
    mhd_otel_tool_duration_format(sp->end - sp->start, dur, sizeof(dur));
    fprintf(out, "%*s %*s%s ", (int)(left - c), "",
            DUR_COLS + (int)(strlen(dur) - cols(dur, strlen(dur))), dur, "");
    if (sp->error)
        fprintf(out, "%s%-*s%s", o->color ? C_RED C_BOLD : "", STATUS_COLS, "ERROR",
                o->color ? C_RESET : "");
    else
        fprintf(out, "%-*s", STATUS_COLS, "");
    size_t c0, c1;
    bar_cells(t, sp, b, &c0, &c1);
    fprintf(out, " %*s", (int)c0, "");
    if (o->color)
        fputs(sp->error ? C_RED : C_CYAN, out);
    for (size_t k = c0; k < c1; k++)
        fputs(BAR_CELL, out);
    fputs(o->color ? C_RESET "\n" : "\n", out);
}

static void put_attrs(const render_tree *r, const mhd_otel_tool_render *o, size_t i, size_t depth,
                      FILE *out)
{
    const mhd_otel_tool_span *sp = &r->t->spans[i];
    if (!o->attrs || sp->n_attrs == 0)
        return;
    size_t left, b;
    layout(o->width, &left, &b);
    line_buf lb = {.n = 0};
    put_prefix(&lb, r, depth, left, false);
    lb_str(&lb, r->count[i] > 0 ? "\xe2\x94\x82   " : "    ");
    for (size_t k = 0; k < sp->n_attrs; k++)
        fprintf(out, "%s%s%s=%s%s\n", lb.b, o->color ? C_DIM : "", sp->attrs[k].key,
                sp->attrs[k].value, o->color ? C_RESET : "");
}

/* A marker line at the top level ("(missing parent ID)"). */
static void put_marker(const mhd_otel_tool_render *o, const char *what, uint64_t id, FILE *out)
{
    fprintf(out, "%s(%s %016" PRIx64 ")%s\n", o->color ? C_DIM : "", what, id,
            o->color ? C_RESET : "");
}

/* The subtree of span root at depth, iteratively (a stack of order positions). */
static int put_subtree(render_tree *r, const mhd_otel_tool_render *o, size_t root, size_t depth0,
                       bool last0, FILE *out)
{
    typedef struct frame {
        size_t idx, depth;
        bool last;
    } frame;
    size_t cap = 64, n = 0;
    frame *st = malloc(cap * sizeof(*st));
    if (st == NULL)
        return -1;
    st[n++] = (frame){root, depth0, last0};
    r->seen[root] = true;
    while (n > 0) {
        frame f = st[--n];
        r->last[f.depth] = f.last;
        size_t p = r->parent[f.idx];
        put_span(r, o, f.idx, f.depth,
                 f.depth > 0 && p != NONE && r->seen[p] ? r->t->spans[p].service : NULL, out);
        put_attrs(r, o, f.idx, f.depth, out);
        size_t k0 = r->first[f.idx], kn = r->count[f.idx];
        if (n + kn > cap) {
            while (n + kn > cap)
                cap *= 2;
            frame *ns = realloc(st, cap * sizeof(*ns));
            if (ns == NULL) {
                free(st);
                return -1;
            }
            st = ns;
        }
        bool first_pushed = true; /* the last child in order is pushed first */
        for (size_t k = kn; k-- > 0;) {
            size_t c = r->order[k0 + k].idx;
            if (r->seen[c])
                continue;
            r->seen[c] = true;
            st[n++] = (frame){c, f.depth + 1, first_pushed};
            first_pushed = false;
        }
    }
    free(st);
    return 0;
}

/* The header line: trace id, services, span count, duration. */
static void put_header(const mhd_otel_tool_trace *t, const mhd_otel_tool_render *o, FILE *out)
{
    char id[33], dur[32];
    const char *svc[SERVICES_SHOWN];
    size_t ns = 0, errors = 0;
    bool more = false;
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->spans[i].service;
        errors += t->spans[i].error;
        size_t k = 0;
        while (k < ns && svc[k] != s)
            k++;
        if (k == ns && s[0] != '\0') {
            if (ns < SERVICES_SHOWN)
                svc[ns++] = s;
            else
                more = true;
        }
    }
    trace_hex(t, id);
    fprintf(out, "%strace %s%s  ", o->color ? C_BOLD : "", id, o->color ? C_RESET : "");
    for (size_t k = 0; k < ns; k++)
        fprintf(out, "%s%s", k > 0 ? ", " : "", svc[k]);
    if (more)
        fputs(", ...", out);
    fprintf(out, "%s%zu span%s  %s", ns > 0 ? "  " : "", t->n, t->n == 1 ? "" : "s",
            mhd_otel_tool_duration_format(t->end - t->start, dur, sizeof(dur)));
    if (errors > 0)
        fprintf(out, "  %s%zu error%s%s", o->color ? C_RED : "", errors, errors == 1 ? "" : "s",
                o->color ? C_RESET : "");
    fputc('\n', out);
}

int mhd_otel_tool_render_trace(const mhd_otel_tool_trace *t, const mhd_otel_tool_render *o,
                               FILE *out)
{
    render_tree r;
    if (t->n == 0)
        return 0;
    if (tree_build(&r, t) != 0)
        return -1;
    put_header(t, o, out);
    int rc = 0;
    uint64_t marker = 0; /* the missing parent of the group being printed */
    for (size_t k = 0; k < r.ntop && rc == 0; k++) {
        size_t i = r.order[r.top + k].idx;
        uint64_t p = t->spans[i].parent_id;
        if (p == 0) {
            marker = 0;
            rc = put_subtree(&r, o, i, 0, true, out);
            continue;
        }
        if (p != marker)
            put_marker(o, "missing parent", p, out);
        marker = p;
        bool last = k + 1 == r.ntop || t->spans[r.order[r.top + k + 1].idx].parent_id != p;
        rc = put_subtree(&r, o, i, 1, last, out);
    }
    /* What no top-level span reaches: parents in a cycle. */
    for (size_t k = 0; k < r.top && rc == 0; k++) {
        size_t i = r.order[k].idx;
        if (r.seen[i])
            continue;
        put_marker(o, "parent cycle at", t->spans[i].parent_id, out);
        rc = put_subtree(&r, o, i, 1, true, out);
    }
    tree_free(&r);
    fputc('\n', out);
    return rc;
}

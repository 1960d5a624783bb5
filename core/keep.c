/* keep.c - record-only trees: spans the sampler did not sample, recorded
 * anyway (otel_tracer_config.record_unsampled), held by their local root and,
 * when the root ends, exported if otel_span_keep marked it, else released. */
#include "span_int.h"

#include "tracer_int.h"

#include <stdatomic.h>

void otel_keep_join(otel_span *s, otel_span *local_parent)
{
    otel_span *root = NULL;
    if (local_parent != NULL && local_parent->tracer == s->tracer) {
        if (local_parent->keep_role == OTEL_KEEP_ROOT)
            root = local_parent;
        else if (local_parent->keep_role == OTEL_KEEP_CHILD)
            root = local_parent->keep_root;
    }
    s->keep_next = NULL;
    s->keep_reason = 0;
    if (root != NULL) {
        /* The parent holds a reference on the root (or is the root): the
         * root is alive, and from here on this child holds one too. */
        atomic_fetch_add_explicit(&root->keep_refs, 1, memory_order_relaxed);
        s->keep_role = OTEL_KEEP_CHILD;
        s->keep_root = root;
        return;
    }
    s->keep_role = OTEL_KEEP_ROOT;
    s->keep_root = NULL;
    atomic_store_explicit(&s->keep_head, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->keep_count, 0, memory_order_relaxed);
    atomic_store_explicit(&s->keep_refs, 1, memory_order_relaxed);
}

/* An ended child: onto its root's list, unless the root holds keep_max_spans
 * already or has ended (then released and counted). From any thread: a push
 * onto a lock-free list that the root's end closes. */
static void hold(otel_span *child)
{
    otel_span *root = child->keep_root;
    otel_tracer *t = child->tracer;
    otel_span *head = atomic_load_explicit(&root->keep_head, memory_order_acquire);
    if (head != OTEL_KEEP_CLOSED &&
        atomic_fetch_add_explicit(&root->keep_count, 1, memory_order_relaxed) >=
            t->cfg.keep_max_spans) {
        otel_processor_count_keep(t->processor, OTEL_KEEP_EV_OVERFLOW);
        otel_span_release(t, child);
        return;
    }
    do {
        if (head == OTEL_KEEP_CLOSED) {
            otel_processor_count_keep(t->processor, OTEL_KEEP_EV_LATE);
            otel_span_release(t, child);
            return;
        }
        child->keep_next = head;
    } while (!atomic_compare_exchange_weak_explicit(&root->keep_head, &head, child,
                                                    memory_order_release, memory_order_acquire));
    /* child may be exported and reused from here on: not touched again */
}

/* What the end of root makes of its tree. */
static otel_keep_event outcome(const otel_span *root)
{
    switch (root->keep_reason) {
    case OTEL_KEEP_ERROR:
        return OTEL_KEEP_EV_KEPT_ERROR;
    case OTEL_KEEP_SLOW:
        return OTEL_KEEP_EV_KEPT_SLOW;
    default:
        return OTEL_KEEP_EV_RELEASED;
    }
}

/* An ended root: the children it holds, then itself, to the processor when
 * it was kept, else back to the pool. The list is closed first, so that a
 * child ending from now on is late. */
static void finish(otel_span *root)
{
    otel_tracer *t = root->tracer;
    otel_span *s =
        atomic_exchange_explicit(&root->keep_head, OTEL_KEEP_CLOSED, memory_order_acq_rel);
    otel_keep_event ev = outcome(root);
    bool kept = ev != OTEL_KEEP_EV_RELEASED;
    otel_processor_count_keep(t->processor, ev);
    while (s != NULL) {
        otel_span *next = s->keep_next;
        if (kept)
            otel_processor_on_end(t->processor, s);
        else
            otel_span_release(t, s);
        s = next;
    }
    if (kept)
        otel_processor_on_end(t->processor, root);
    else
        otel_span_release(t, root);
}

void otel_keep_end(otel_span *s)
{
    if (s->keep_role == OTEL_KEEP_CHILD)
        hold(s);
    else
        finish(s);
}

int otel_span_keep(otel_span *root, otel_keep_reason reason)
{
    static const char *const names[] = {[OTEL_KEEP_ERROR] = "error", [OTEL_KEEP_SLOW] = "slow"};
    if (root == NULL || (reason != OTEL_KEEP_ERROR && reason != OTEL_KEEP_SLOW))
        return OTEL_ERR_INVALID;
    if (root->keep_role != OTEL_KEEP_ROOT || root->ended)
        return OTEL_ERR_STATE;
    root->keep_reason = (uint8_t)reason;
    otel_span_set_attr_str(root, "mhd_otel.kept", names[reason]);
    return OTEL_OK;
}

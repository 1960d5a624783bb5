/* metrics_reader.h - the periodic exporting metric reader: a thread that
 * collects the module's metrics every interval and pushes them over OTLP
 * and to the console, and a last time at shutdown. Not a public header. */
#ifndef MHD_OTEL_METRICS_READER_H
#define MHD_OTEL_METRICS_READER_H

#include <stdio.h>

#include "../exporter/otlp.h"
#include "http_metrics.h"

typedef struct mhd_otel_reader mhd_otel_reader;

typedef struct mhd_otel_reader_config {
    mhd_otel_metrics *mm;     /* borrowed; outlives the reader */
    const otel_resource *res; /* borrowed; NULL: none */
    uint64_t interval_ns;     /* between the starts of two exports */
    uint64_t timeout_ns;      /* of one export, and of the last one */
    otel_temporality_pref pref;
    otel_otlp *otlp;             /* taken (freed with the reader, also on failure); NULL: none */
    otel_otlp_protocol protocol; /* otlp's: its encoding and otel.component.type */
    FILE *console;               /* borrowed, NULL: none; written under its lock */
} mhd_otel_reader_config;

/* Start the reader's thread. Returns 0, OTEL_ERR_NOMEM or OTEL_ERR_IO (no
 * thread). */
int mhd_otel_reader_start(mhd_otel_reader **out, const mhd_otel_reader_config *cfg);
/* Collect and export now, as the period would, within timeout_ns; waits
 * for it. Returns 0, OTEL_ERR_TIMEOUT or the export's failure. */
int mhd_otel_reader_flush(mhd_otel_reader *r, uint64_t timeout_ns);
/* A last collection exported within the timeout, then the thread joined
 * and r freed. NULL does nothing. */
void mhd_otel_reader_stop(mhd_otel_reader *r);
/* The same with the last export done by deadline (an otel_mono_ns time)
 * when that comes before the timeout: a shutdown's own deadline. */
void mhd_otel_reader_stop_by(mhd_otel_reader *r, uint64_t deadline);

#endif /* MHD_OTEL_METRICS_READER_H */

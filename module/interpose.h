/* interpose.h - the mark of the functions LD_PRELOAD puts in front of the
 * traced program's own (MHD_start_daemon, curl_easy_perform, ...): the
 * shared library exports them beside the public API. t/so/test_exports.c
 * finds them by this mark. Not a public header. */
#ifndef MHD_OTEL_INTERPOSE_H
#define MHD_OTEL_INTERPOSE_H

#define MHD_OTEL_INTERPOSER __attribute__((visibility("default")))

#endif /* MHD_OTEL_INTERPOSE_H */

// vectors.js - the propagation vectors of the conformance test: header lines in,
// what the specification expects out, and where the official OpenTelemetry
// JavaScript propagators are known to differ from the specification.
//
// Each vector:
//   id                the name compare.js prints
//   spec              the section of the specification it checks
//   propagators       the configured set, in order (OTEL_PROPAGATORS names)
//   headers           [name, value] field lines, in order; a name may repeat
//   expect            what the specification expects mhd-otel to find and
//                     inject: valid, trace_id, span_id, sampled, debug,
//                     tracestate, baggage ([key, value, properties], in any
//                     order) and injected (every header written, by
//                     lowercase name); a field left out is not checked
//   known_difference  where JS does not do what the specification says:
//                     js, the values JS gives for the fields that differ
//                     (null: a header JS does not write), and why, which
//                     says what JS does and quotes the specification
//
// The texts cited: W3C Trace Context Level 1 (the 2021 Recommendation,
// w3c/trace-context spec/20-http_request_header_format.md and
// spec/30-processing-model.md at 37d4640) and its test suite (test/test.py),
// W3C Baggage (w3c/baggage baggage/HTTP_HEADER_FORMAT.md), the OpenTelemetry
// specification (specification/context/api-propagators.md,
// specification/baggage/api.md), B3 Propagation (openzipkin/b3-propagation
// README.md) and RFC 7230.
'use strict';

// ---- identifiers --------------------------------------------------------------

const T = '12345678901234567890123456789012'; // the W3C test suite's trace id
const S = '1234567890123456';
const T2 = '0af7651916cd43dd8448eb211c80319c';
const S2 = 'b7ad6b7169203331';
const B3T = '80f198ee56343ba864fe8b2a57d3eff7'; // the B3 specification's examples
const B3S = 'e457b5a2e4d86bd1';
const B3P = '05e3ac9a4f6e3b90';
const B3T64 = '463ac35c9f6413ad';
const B3T64_PADDED = '0000000000000000463ac35c9f6413ad';

function tp(flags = '01', version = '00', trace = T, span = S) {
    return `${version}-${trace}-${span}-${flags}`;
}

// ---- expected outcomes --------------------------------------------------------

// No trace context, no baggage, nothing injected.
const NONE = {
    valid: false,
    trace_id: '',
    span_id: '',
    sampled: false,
    debug: false,
    tracestate: '',
    baggage: [],
    injected: {},
};

// A valid W3C context, injected again unchanged (version 00).
function w3c({ flags = '01', tracestate = '', trace = T, span = S } = {}) {
    const injected = { traceparent: tp(flags, '00', trace, span) };
    if (tracestate !== '') injected.tracestate = tracestate;
    return {
        valid: true,
        trace_id: trace,
        span_id: span,
        sampled: (parseInt(flags, 16) & 1) === 1,
        debug: false,
        tracestate,
        baggage: [],
        injected,
    };
}

// Only baggage (the baggage propagator alone); header is what goes out.
function bag(entries, header) {
    return { ...NONE, baggage: entries, injected: header ? { baggage: header } : {} };
}

// A valid B3 context; injected is what the configured set writes.
function b3ctx({ trace = B3T, span = B3S, sampled = true, debug = false, injected }) {
    return { valid: true, trace_id: trace, span_id: span, sampled, debug, tracestate: '', baggage: [], injected };
}

// What b3 (single) and b3multi write for a context.
function b3single(trace, span, state) {
    return { b3: `${trace}-${span}-${state}` };
}
function b3multi(trace, span, sampled) {
    return { 'x-b3-traceid': trace, 'x-b3-spanid': span, 'x-b3-sampled': sampled };
}
function b3debug(trace, span) {
    return { 'x-b3-traceid': trace, 'x-b3-spanid': span, 'x-b3-flags': '1' };
}

// ---- citations ----------------------------------------------------------------

const TC = 'W3C Trace Context Level 1';
const TC_TP = `${TC}, 'traceparent Header Field Values'`;
const TC_TP_VERSIONS = `${TC}, 'Versioning of traceparent'`;
const TC_TS = `${TC}, 'tracestate Header Field Values'`;
const TC_TS_LIMITS = `${TC}, 'tracestate Limits'`;
const BG = 'W3C Baggage';
const B3 = 'OpenTelemetry specification, Propagators API';
const ZIPKIN = 'B3 Propagation (openzipkin/b3-propagation)';

// Why JS's tracestate parser differs, shared by the vectors it concerns.
const WHY_TS_WHOLE =
    "JS's TraceState skips a list-member that fails its key or value check and keeps the others. " +
    "The list is one value of the grammar 'list = list-member 0*31( OWS \",\" OWS list-member )'; " +
    "the Processing Model allows 'If the tracestate header cannot be parsed the vendor MAY discard " +
    "the entire header', and the official test suite (test/test.py, STRICT_LEVEL 2, the default) " +
    'expects exactly that: mhd-otel discards the whole tracestate (the traceparent still counts).';
const WHY_TS_KEY_2021 =
    "JS's validateKey uses the pre-2021 'tenant@vendor' key grammar ([a-z] first unless there is " +
    "an '@', at most 241 characters before the '@', one '@', [a-z] and at most 13 more after it) " +
    "and skips the member. The Recommendation's grammar is 'key = ( lcalpha / DIGIT ) 0*255 ( keychar )' " +
    "with '@' a keychar: 'A key MUST begin with a lowercase letter or a digit and contain up to 256 " +
    "characters including lowercase letters (a-z), digits (0-9), underscores (_), dashes (-), " +
    "asterisks (*), forward slashes (/), and at signs (@).' The test suite's " +
    'test_tracestate_key_illegal_vendor_format and test_tracestate_key_length_limit expect such keys kept.';
const WHY_TS_EMPTY_SENT =
    'JS injects tracestate with an empty value whenever a tracestate header was received, even ' +
    'when none of its members was kept. The specification: "Vendors MUST accept empty tracestate ' +
    'headers but SHOULD avoid sending them." (tracestate Header Field Values), and the OpenTelemetry ' +
    'specification: "A W3C Trace Context propagator MUST propagate a valid tracestate unless the ' +
    'value is empty, in which case the tracestate header may be omitted." mhd-otel sends none.';
const WHY_B3_DEBUG =
    'JS keeps the B3 debug flag as the raw header value ("d" from b3, "1" from X-B3-Flags) and ' +
    'each injector only recognises its own form, so the flag is lost when extracted from one form ' +
    'and injected in the other. OpenTelemetry specification, B3 Extract: propagators "MUST preserve ' +
    'a debug trace flag, if received, and propagate it with subsequent requests."';
const WHY_B3_ANCHOR =
    "JS's B3_CONTEXT_REGEX is not anchored and its optional groups may fail silently, so it accepts " +
    'a b3 value in which some part of the string looks like {TraceId}-{SpanId}. B3 Propagation, ' +
    "Single Header: 'b3={TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}, where the last two fields " +
    "are optional'; 'The first position of the b3 value is the 32 or 16 lower-hex character TraceId'; " +
    "the sampling state is 1, 0 or d. mhd-otel rejects a value that is not this.";
const WHY_COMPOSITE =
    "JS's CompositePropagator runs every propagator and a later one's context replaces an earlier " +
    "one's (its documentation: 'the propagator later in the list will \"win\"'). The OpenTelemetry " +
    'specification (Composite Propagator) only says it "will invoke the Propagators, Injectors, or ' +
    'Extractors, in the order they were specified" and leaves the choice open; mhd-otel documents ' +
    'that the first propagator that finds a valid context wins (core/propagation.h), so the order ' +
    'of OTEL_PROPAGATORS is a priority. A difference the specification allows.';

// ---- helpers for long values --------------------------------------------------

// n tracestate members barNN=NN, NN from first.
function bars(first, n) {
    const out = [];
    for (let i = first; i < first + n; i++) {
        const nn = String(i).padStart(2, '0');
        out.push(`bar${nn}=${nn}`);
    }
    return out.join(',');
}

// A tracestate member of exactly len characters: key k, value of 'v's.
function member(k, len) {
    return `${k}=${'v'.repeat(len - k.length - 1)}`;
}

// n baggage members kN=N.
function bagMembers(n) {
    const out = [];
    for (let i = 1; i <= n; i++) out.push([`k${i}`, String(i), '']);
    return out;
}

// ---- the vectors ------------------------------------------------------------------

const LONG_FIRST = [member('big', 254), member('k2', 60), member('k3', 60), member('k4', 60), member('k5', 60), member('k6', 60)];
const TEN = Array.from({ length: 10 }, (_, i) => member(`m${i}`, 60));
const EXACT_512 = [...Array.from({ length: 7 }, (_, i) => member(`e${i}`, 60)), member('last', 85)];
const BAG_3000 = ['a', 'b', 'c'].map((k) => `${k}=${'x'.repeat(2998)}`);

module.exports = [
    // ---- W3C Trace Context: traceparent -------------------------------------------
    {
        id: 'tc-traceparent-sampled',
        spec: `${TC_TP}; Examples of HTTP traceparent Headers`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01')]],
        expect: w3c(),
    },
    {
        id: 'tc-traceparent-not-sampled',
        spec: `${TC_TP}, 'Sampled flag'`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')]],
        expect: w3c({ flags: '00' }),
    },
    {
        id: 'tc-header-name-any-case',
        spec: `${TC}, 'traceparent Header', 'Header Name': "Vendors MUST expect the header name in any case (upper, lower, mixed)"`,
        propagators: 'tracecontext',
        headers: [['TrAcEpArEnT', tp('01')], ['TRACESTATE', 'foo=1']],
        expect: w3c({ tracestate: 'foo=1' }),
    },
    {
        id: 'tc-header-name-with-hyphen',
        spec: `${TC}, 'Header Name': "The header name is a single word without any delimiters, for example, a hyphen (-)." (test_traceparent_header_name)`,
        propagators: 'tracecontext',
        headers: [['trace-parent', tp('01')]],
        expect: NONE,
    },
    {
        id: 'tc-version-ff',
        spec: `${TC_TP}, 'version': "Version ff is invalid."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', 'ff')]],
        expect: NONE,
    },
    {
        id: 'tc-version-cc',
        spec: `${TC_TP_VERSIONS}: "If a higher version is detected, the implementation SHOULD try to parse it"; 'Mutating the traceparent Field', 'Downgrade the version'`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', 'cc')]],
        expect: w3c(),
    },
    {
        id: 'tc-version-cc-future-fields',
        spec: `${TC_TP_VERSIONS}: "Vendors MUST check that the 2 characters are either at the end of the string or followed by a dash (-)." (test_traceparent_version_0xcc)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `${tp('01', 'cc')}-what-the-future-will-be-like`]],
        expect: w3c(),
    },
    {
        id: 'tc-version-cc-no-dash-after-flags',
        spec: `${TC_TP_VERSIONS}: "Vendors MUST check that the 2 characters are either at the end of the string or followed by a dash (-)."`,
        propagators: 'tracecontext',
        headers: [['traceparent', `${tp('01', 'cc')}.what-the-future-will-be-like`]],
        expect: NONE,
    },
    {
        id: 'tc-version-cc-unknown-flags',
        spec: `${TC}, 'Processing Model', 'A traceparent is Received': "The vendor will only parse the trace-flags values supported by this version of this specification and ignore all other values. ... Vendors will set all unparsed / unknown trace-flags to 0 on outgoing requests."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('09', 'cc')]],
        expect: w3c({ flags: '01' }),
        known_difference: {
            js: { 'injected.traceparent': tp('09') },
            why:
                'JS keeps all eight flag bits of a higher-version traceparent and sends 09 on. The ' +
                'Processing Model for a higher version: "The vendor will only parse the trace-flags ' +
                'values supported by this version of this specification and ignore all other values. ' +
                '... Vendors will set all unparsed / unknown trace-flags to 0 on outgoing requests." ' +
                'mhd-otel keeps only the sampled bit of a version it does not know: 01.',
        },
    },
    {
        id: 'tc-version-00-extra-field',
        spec: `${TC_TP}, 'version-format' (version 00 is exactly trace-id "-" parent-id "-" trace-flags; test_traceparent_version_0x00)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `${tp('01')}-what-the-future-will-be-like`]],
        expect: NONE,
    },
    {
        id: 'tc-version-00-trailing-dot',
        spec: `${TC_TP}, 'version-format' (test_traceparent_version_0x00)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `${tp('01')}.`]],
        expect: NONE,
    },
    {
        id: 'tc-version-illegal-characters',
        spec: `${TC_TP}, 'version': "version = 2HEXDIGLC" (test_traceparent_version_illegal_characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `.0-${T}-${S}-01`]],
        expect: NONE,
    },
    {
        id: 'tc-version-too-long',
        spec: `${TC_TP_VERSIONS}: "When the version prefix cannot be parsed (it's not 2 hex characters followed by a dash (-)), the implementation should restart the trace." (test_traceparent_version_too_long)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `000-${T}-${S}-01`]],
        expect: NONE,
    },
    {
        id: 'tc-version-too-short',
        spec: `${TC_TP_VERSIONS} (test_traceparent_version_too_short)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `0-${T}-${S}-01`]],
        expect: NONE,
    },
    {
        id: 'tc-trace-id-uppercase',
        spec: `${TC_TP}, 'trace-id': "trace-id = 32HEXDIGLC"; "If the trace-id value is invalid (for example if it contains non-allowed characters or all zeros), vendors MUST ignore the traceparent."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', '00', T2.toUpperCase(), S2)]],
        expect: NONE,
    },
    {
        id: 'tc-parent-id-uppercase',
        spec: `${TC_TP}, 'parent-id': "Vendors MUST ignore the traceparent when the parent-id is invalid (for example, if it contains non-lowercase hex characters)."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', '00', T2, S2.toUpperCase())]],
        expect: NONE,
    },
    {
        id: 'tc-trace-id-all-zero',
        spec: `${TC_TP}, 'trace-id': "All bytes as zero (00000000000000000000000000000000) is considered an invalid value." (test_traceparent_trace_id_all_zero)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', '00', '0'.repeat(32), S)]],
        expect: NONE,
    },
    {
        id: 'tc-parent-id-all-zero',
        spec: `${TC_TP}, 'parent-id': "All bytes as zero (0000000000000000) is considered an invalid value." (test_traceparent_parent_id_all_zero)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', '00', T, '0'.repeat(16))]],
        expect: NONE,
    },
    {
        id: 'tc-trace-id-too-long',
        spec: `${TC_TP}, 'version-format' (test_traceparent_trace_id_too_long)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `00-${T}3-${S}-01`]],
        expect: NONE,
    },
    {
        id: 'tc-trace-id-too-short',
        spec: `${TC_TP}, 'version-format' (test_traceparent_trace_id_too_short)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `00-${T.slice(0, 31)}-${S}-01`]],
        expect: NONE,
    },
    {
        id: 'tc-parent-id-too-long',
        spec: `${TC_TP}, 'version-format' (test_traceparent_parent_id_too_long)`,
        propagators: 'tracecontext',
        headers: [['traceparent', `00-${T}-${S}7-01`]],
        expect: NONE,
    },
    {
        id: 'tc-flags-too-long',
        spec: `${TC_TP}, 'version-format': "trace-flags = 2HEXDIGLC" (test_traceparent_trace_flags_too_long)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('001')]],
        expect: NONE,
    },
    {
        id: 'tc-flags-illegal-characters',
        spec: `${TC_TP}, 'version-format': "trace-flags = 2HEXDIGLC" (test_traceparent_trace_flags_illegal_characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('.0')]],
        expect: NONE,
    },
    {
        id: 'tc-flags-random-bit-kept',
        spec: 'W3C Trace Context Level 2, \'Random Trace ID Flag\': "If the flag is set in the incoming traceparent header, it MUST also be set in all outgoing traceparent headers which use the same trace-id." (required by the OpenTelemetry specification, \'W3C Trace Context Requirements\')',
        propagators: 'tracecontext',
        headers: [['traceparent', tp('03')]],
        expect: w3c({ flags: '03' }),
    },
    {
        id: 'tc-flags-high-bits',
        spec: `${TC_TP}, 'version-format': "trace-flags = 2HEXDIGLC ; 8 bit flags"`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('ff')]],
        expect: { valid: true, trace_id: T, span_id: S, sampled: true, tracestate: '' },
        known_difference: {
            js: { 'injected.traceparent': `00-${T}-${S}-0ff` },
            why:
                'JS formats the flags as "0" followed by their hex digits, so flags ff go out as the ' +
                'three characters 0ff: a 56-character traceparent that no receiver accepts. The ' +
                'grammar is "trace-flags = 2HEXDIGLC ; 8 bit flags". mhd-otel writes two hex digits.',
        },
    },
    {
        id: 'tc-ows-one-character',
        spec: `${TC} test suite, test_traceparent_ows_handling; RFC 7230 section 3.2: "header-field = field-name \\":\\" OWS field-value OWS"`,
        propagators: 'tracecontext',
        headers: [['traceparent', ` ${tp('01')}\t`]],
        expect: w3c(),
    },
    {
        id: 'tc-ows-several-characters',
        spec: `${TC} test suite, test_traceparent_ows_handling (sends '\\t 00-...-01 \\t' and expects the trace id kept); RFC 7230 section 3.2: "header-field = field-name \\":\\" OWS field-value OWS"`,
        propagators: 'tracecontext',
        headers: [['traceparent', `\t ${tp('01')} \t`]],
        expect: w3c(),
        known_difference: {
            js: { valid: false, trace_id: '', span_id: '', sampled: false, 'injected.traceparent': null },
            why:
                "JS's TRACE_PARENT_REGEX allows one whitespace character (\\s?) on each side, so a " +
                'traceparent with a tab and a space around it is ignored. RFC 7230 section 3.2 puts any ' +
                'amount of optional whitespace around a field value ("header-field = field-name \\":\\" OWS ' +
                'field-value OWS", OWS = *( SP / HTAB )), and the official test suite ' +
                "(test_traceparent_ows_handling) sends '\\t 00-...-01 \\t' and expects the same trace id. " +
                'mhd-otel strips all of it.',
        },
    },
    {
        id: 'tc-traceparent-two-lines',
        spec: `${TC} test suite, test_traceparent_duplicated ("harness sends a request with two traceparent headers, expects a valid traceparent from the output header, with a newly generated trace_id"); RFC 7230 section 3.2.2`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01', '00', T2, S2)], ['traceparent', tp('01')], ['tracestate', 'foo=1']],
        expect: NONE,
        known_difference: {
            js: {
                valid: true,
                trace_id: T2,
                span_id: S2,
                sampled: true,
                tracestate: 'foo=1',
                'injected.traceparent': tp('01', '00', T2, S2),
                'injected.tracestate': 'foo=1',
            },
            why:
                'JS takes the first of two traceparent lines. traceparent holds one value, not a list; ' +
                'RFC 7230 section 3.2.2: "A sender MUST NOT generate multiple header fields with the same ' +
                'field name in a message unless either the entire field value for that header field is ' +
                'defined as a comma-separated list [i.e., #(values)] or the header field is a well-known ' +
                'exception", and the official test suite (test_traceparent_duplicated) expects a new ' +
                'trace id: mhd-otel takes neither.',
        },
    },
    {
        id: 'tc-traceparent-invalid-tracestate-ignored',
        spec: `${TC}, 'Tracestate Header': "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('0g')], ['tracestate', 'foo=1']],
        expect: NONE,
    },
    {
        id: 'tc-tracestate-without-traceparent',
        spec: `${TC}, 'Processing Model', 'No traceparent Received': "If a tracestate header is received without an accompanying traceparent header, it is invalid and MUST be discarded."`,
        propagators: 'tracecontext',
        headers: [['tracestate', 'foo=1,bar=2']],
        expect: NONE,
    },

    // ---- W3C Trace Context: tracestate ------------------------------------------------
    {
        id: 'ts-two-members',
        spec: `${TC_TS}; 'Examples of tracestate HTTP Headers' (test_tracestate_included_traceparent_included)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE']],
        expect: w3c({ flags: '00', tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }),
    },
    {
        id: 'ts-multiple-lines-combined',
        spec: `${TC_TS}: "When receiving multiple tracestate header fields, they MUST be combined into a single header according to RFC7230." (test_tracestate_multiple_headers_different_keys)`,
        propagators: 'tracecontext',
        headers: [
            ['traceparent', tp('00')],
            ['tracestate', 'foo=1,bar=2'],
            ['tracestate', 'rojo=1,congo=2'],
            ['tracestate', 'baz=3'],
        ],
        expect: w3c({ flags: '00', tracestate: 'foo=1,bar=2,rojo=1,congo=2,baz=3' }),
    },
    {
        id: 'ts-empty-header',
        spec: `${TC_TS}: "Vendors MUST accept empty tracestate headers but SHOULD avoid sending them." (test_tracestate_empty_header)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', '']],
        expect: w3c({ flags: '00' }),
    },
    {
        id: 'ts-empty-line-and-member',
        spec: `${TC_TS}: "Empty list members are allowed in tracestate because it is difficult for a vendor to recognize the empty value when multiple tracestate headers are sent." (test_tracestate_empty_header)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', ''], ['tracestate', 'foo=1'], ['tracestate', '']],
        expect: w3c({ flags: '00', tracestate: 'foo=1' }),
    },
    {
        id: 'ts-blank-header',
        spec: `${TC_TS}: "Empty and whitespace-only list members are allowed. Vendors MUST accept empty tracestate headers but SHOULD avoid sending them."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', ' \t ']],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { 'injected.tracestate': '' }, why: WHY_TS_EMPTY_SENT },
    },
    {
        id: 'ts-empty-and-blank-members',
        spec: `${TC_TS}: "Empty and whitespace-only list members are allowed."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1,, \t ,bar=2,']],
        expect: w3c({ flags: '00', tracestate: 'foo=1,bar=2' }),
    },
    {
        id: 'ts-ows-around-members',
        spec: `${TC_TS}: "Spaces and horizontal tabs surrounding list-members are ignored." (test_tracestate_ows_handling)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1 \t , \t bar=2, \t baz=3'], ['tracestate', '\t qux=4 \t']],
        expect: w3c({ flags: '00', tracestate: 'foo=1,bar=2,baz=3,qux=4' }),
    },
    {
        id: 'ts-32-members',
        spec: `${TC_TS}: "There can be a maximum of 32 list-members in a list." (test_tracestate_member_count_limit)`,
        propagators: 'tracecontext',
        headers: [
            ['traceparent', tp('00')],
            ['tracestate', bars(1, 10)],
            ['tracestate', bars(11, 10)],
            ['tracestate', bars(21, 10)],
            ['tracestate', bars(31, 2)],
        ],
        expect: w3c({ flags: '00', tracestate: bars(1, 32) }),
    },
    {
        id: 'ts-33-members',
        spec: `${TC_TS}: "There can be a maximum of 32 list-members in a list."; 'list': "list = list-member 0*31( OWS \\",\\" OWS list-member )" (test_tracestate_member_count_limit expects the tracestate discarded)`,
        propagators: 'tracecontext',
        headers: [
            ['traceparent', tp('00')],
            ['tracestate', bars(1, 10)],
            ['tracestate', bars(11, 10)],
            ['tracestate', bars(21, 10)],
            ['tracestate', bars(31, 3)],
        ],
        expect: w3c({ flags: '00' }),
        known_difference: {
            js: { tracestate: bars(1, 32), 'injected.tracestate': bars(1, 32) },
            why:
                "JS's TraceState stops reading after 32 members and keeps them. The list grammar allows " +
                '32 at most ("There can be a maximum of 32 list-members in a list."; "list = list-member ' +
                '0*31( OWS \\",\\" OWS list-member )"), a list of 33 is not a tracestate, and the official ' +
                'test suite (test_tracestate_member_count_limit) expects the whole header discarded, as ' +
                'mhd-otel does.',
        },
    },
    {
        id: 'ts-key-256-characters',
        spec: `${TC_TS}, 'Key': "contain up to 256 characters" (test_tracestate_key_length_limit)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', `${'z'.repeat(256)}=1`]],
        expect: w3c({ flags: '00', tracestate: `foo=1,${'z'.repeat(256)}=1` }),
    },
    {
        id: 'ts-key-257-characters',
        spec: `${TC_TS}, 'Key': "key = ( lcalpha / DIGIT ) 0*255 ( keychar )" (test_tracestate_key_length_limit expects foo discarded)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', `${'z'.repeat(257)}=1`]],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { tracestate: 'foo=1', 'injected.tracestate': 'foo=1' }, why: WHY_TS_WHOLE },
    },
    {
        id: 'ts-key-tenant-at-vendor',
        spec: `${TC_TS}, 'Key' (test_tracestate_key_length_limit: 241 characters, '@', 14 characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', `${'t'.repeat(241)}@${'v'.repeat(14)}=1`]],
        expect: w3c({ flags: '00', tracestate: `foo=1,${'t'.repeat(241)}@${'v'.repeat(14)}=1` }),
    },
    {
        id: 'ts-key-at-after-242-characters',
        spec: `${TC_TS}, 'Key': "key = ( lcalpha / DIGIT ) 0*255 ( keychar )", keychar includes "@" (test_tracestate_key_length_limit)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', `${'t'.repeat(242)}@v=1`]],
        expect: w3c({ flags: '00', tracestate: `foo=1,${'t'.repeat(242)}@v=1` }),
        known_difference: { js: { tracestate: 'foo=1', 'injected.tracestate': 'foo=1' }, why: WHY_TS_KEY_2021 },
    },
    {
        id: 'ts-key-at-then-15-characters',
        spec: `${TC_TS}, 'Key' (test_tracestate_key_length_limit: 't@' and 15 characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', `t@${'v'.repeat(15)}=1`]],
        expect: w3c({ flags: '00', tracestate: `foo=1,t@${'v'.repeat(15)}=1` }),
        known_difference: { js: { tracestate: 'foo=1', 'injected.tracestate': 'foo=1' }, why: WHY_TS_KEY_2021 },
    },
    {
        id: 'ts-key-ending-in-at',
        spec: `${TC_TS}, 'Key' (test_tracestate_key_illegal_vendor_format: 'foo@=1,bar=2' keeps both)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo@=1,bar=2']],
        expect: w3c({ flags: '00', tracestate: 'foo@=1,bar=2' }),
        known_difference: { js: { tracestate: 'bar=2', 'injected.tracestate': 'bar=2' }, why: WHY_TS_KEY_2021 },
    },
    {
        id: 'ts-key-two-ats',
        spec: `${TC_TS}, 'Key' (test_tracestate_key_illegal_vendor_format: 'foo@@bar=1' and 'foo@bar@baz=1' are kept)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo@@bar=1,foo@bar@baz=1,bar=2']],
        expect: w3c({ flags: '00', tracestate: 'foo@@bar=1,foo@bar@baz=1,bar=2' }),
        known_difference: { js: { tracestate: 'bar=2', 'injected.tracestate': 'bar=2' }, why: WHY_TS_KEY_2021 },
    },
    {
        id: 'ts-key-starting-with-digit',
        spec: `${TC_TS}, 'Key': "A key MUST begin with a lowercase letter or a digit"`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', '1special=1,bar=2']],
        expect: w3c({ flags: '00', tracestate: '1special=1,bar=2' }),
        known_difference: { js: { tracestate: 'bar=2', 'injected.tracestate': 'bar=2' }, why: WHY_TS_KEY_2021 },
    },
    {
        id: 'ts-key-starting-with-at',
        spec: `${TC_TS}, 'Key': "A key MUST begin with a lowercase letter or a digit" (test_tracestate_key_illegal_vendor_format: '@foo=1,bar=2' discards bar too)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', '@foo=1,bar=2']],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { tracestate: 'bar=2', 'injected.tracestate': 'bar=2' }, why: WHY_TS_WHOLE },
    },
    {
        id: 'ts-key-uppercase',
        spec: `${TC_TS}, 'Key': "lcalpha = %x61-7A ; a-z" (test_tracestate_key_illegal_characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'FOO=1,bar=2']],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { tracestate: 'bar=2', 'injected.tracestate': 'bar=2' }, why: WHY_TS_WHOLE },
    },
    {
        id: 'ts-key-with-dot',
        spec: `${TC_TS}, 'Key': keychar has no "." (test_tracestate_key_illegal_characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo.bar=1']],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { 'injected.tracestate': '' }, why: WHY_TS_EMPTY_SENT },
    },
    {
        id: 'ts-all-allowed-characters',
        spec: `${TC_TS}, 'Key' and 'Value': "All leading spaces MUST be preserved as part of the value." (test_tracestate_all_allowed_characters)`,
        propagators: 'tracecontext',
        headers: (() => {
            const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
            let value = '';
            for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
            return [['traceparent', tp('00')], ['tracestate', `${key}=${value},${key}@a-z0-9_-*/=${value}`]];
        })(),
        expect: (() => {
            const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
            let value = '';
            for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
            return w3c({ flags: '00', tracestate: `${key}=${value},${key}@a-z0-9_-*/=${value}` });
        })(),
    },
    {
        id: 'ts-value-with-equals',
        spec: `${TC_TS}, 'Value': "except comma (,) and (=)" (test_tracestate_value_illegal_characters)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=bar=baz']],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { 'injected.tracestate': '' }, why: WHY_TS_EMPTY_SENT },
    },
    {
        id: 'ts-value-empty',
        spec: `${TC_TS}, 'Value': "value = 0*255(chr) nblk-chr" (test_tracestate_value_illegal_characters: 'foo=,bar=3' discards both)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=,bar=3']],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { tracestate: 'bar=3', 'injected.tracestate': 'bar=3' }, why: WHY_TS_WHOLE },
    },
    {
        id: 'ts-value-257-characters',
        spec: `${TC_TS}, 'Value': "The value is an opaque string containing up to 256 printable ASCII characters"`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', `foo=${'x'.repeat(257)},bar=2`]],
        expect: w3c({ flags: '00' }),
        known_difference: { js: { tracestate: 'bar=2', 'injected.tracestate': 'bar=2' }, why: WHY_TS_WHOLE },
    },
    {
        id: 'ts-value-trailing-space-dropped',
        spec: `${TC_TS}, 'Value': "All trailing spaces are considered to be optional whitespace characters not part of the value."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo= 1  ,bar=2 ']],
        expect: w3c({ flags: '00', tracestate: 'foo= 1,bar=2' }),
    },
    {
        id: 'ts-duplicate-key-same-value',
        spec: `${TC_TS}, 'Combined Header Value' (test_tracestate_duplicated_keys: 'foo=1,foo=1')`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1,foo=1']],
        expect: w3c({ flags: '00', tracestate: 'foo=1' }),
    },
    {
        id: 'ts-duplicate-key-first-kept',
        spec: `${TC_TS}, 'Combined Header Value': "Only one entry per key is allowed because the entry represents that last position in the trace." (test_tracestate_duplicated_keys)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1,bar=2,foo=3']],
        expect: w3c({ flags: '00', tracestate: 'foo=1,bar=2' }),
        known_difference: {
            js: { tracestate: 'foo=3,bar=2', 'injected.tracestate': 'foo=3,bar=2' },
            why:
                "JS's TraceState map keeps the first key's position with the last key's value: " +
                "'foo=3,bar=2', an entry that was never received in that place. Entries are added on " +
                'the left ("The new key/value pair SHOULD be added to the beginning of the list."), so ' +
                'the left-most entry of a key is its latest position ("Only one entry per key is allowed ' +
                'because the entry represents that last position in the trace."), and "When mutating ' +
                'tracestate, the order of unmodified key/value pairs MUST be preserved." mhd-otel keeps ' +
                'the first entry and drops the later one; the test suite (test_tracestate_duplicated_keys) ' +
                'accepts either entry.',
        },
    },
    {
        id: 'ts-duplicate-key-across-lines',
        spec: `${TC_TS}, 'Combined Header Value' (test_tracestate_duplicated_keys: 'foo=1' and 'foo=2' on two lines)`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', 'foo=1'], ['tracestate', 'foo=2']],
        expect: w3c({ flags: '00', tracestate: 'foo=1' }),
        known_difference: {
            js: { tracestate: 'foo=2', 'injected.tracestate': 'foo=2' },
            why:
                'JS keeps the value of the last entry of a key. The left-most entry is the latest ' +
                'position of a vendor ("The new key/value pair SHOULD be added to the beginning of the ' +
                'list."; "Only one entry per key is allowed because the entry represents that last ' +
                'position in the trace."); mhd-otel keeps it, the test suite accepts either.',
        },
    },
    {
        id: 'ts-truncate-long-members-first',
        spec: `${TC_TS_LIMITS}: "Entries larger than 128 characters long SHOULD be removed first. Then entries SHOULD be removed starting from the end of tracestate."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', LONG_FIRST.join(',')]],
        expect: w3c({ flags: '00', tracestate: LONG_FIRST.slice(1).join(',') }),
        known_difference: {
            js: { tracestate: LONG_FIRST.slice(0, 5).join(','), 'injected.tracestate': LONG_FIRST.slice(0, 5).join(',') },
            why:
                'JS reads members from the left and skips each one that would take the tracestate ' +
                'over 512 characters, so it keeps the 254-character member and drops the last small ' +
                'one. The specification: "Entries larger than 128 characters long SHOULD be removed ' +
                'first. Then entries SHOULD be removed starting from the end of tracestate. Other ' +
                'truncation strategies like safe list entries, blocked list entries, or size-based ' +
                'truncation SHOULD NOT be used." mhd-otel removes the long member.',
        },
    },
    {
        id: 'ts-truncate-from-the-end',
        spec: `${TC_TS_LIMITS}: "the vendor MUST truncate whole entries. ... Then entries SHOULD be removed starting from the end of tracestate."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', TEN.join(',')]],
        expect: w3c({ flags: '00', tracestate: TEN.slice(0, 8).join(',') }),
    },
    {
        id: 'ts-512-characters-kept',
        spec: `${TC_TS_LIMITS}: "Vendors SHOULD propagate at least 512 characters of a combined header. This length includes commas required to separate list items and optional white space (OWS) characters."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ['tracestate', EXACT_512.join(',')]],
        expect: w3c({ flags: '00', tracestate: EXACT_512.join(',') }),
    },
    {
        id: 'ts-65-lines-combined',
        spec: `${TC_TS}: "When receiving multiple tracestate header fields, they MUST be combined into a single header according to RFC7230."; "Empty and whitespace-only list members are allowed."`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('00')], ...Array.from({ length: 64 }, () => ['tracestate', '']), ['tracestate', 'foo=1']],
        expect: w3c({ flags: '00', tracestate: 'foo=1' }),
    },

    // ---- W3C Baggage ---------------------------------------------------------------------
    {
        id: 'bg-single-header',
        spec: `${BG}, 'Examples of HTTP headers'`,
        propagators: 'baggage',
        headers: [['baggage', 'userId=alice,serverNode=DF%2028,isProduction=false']],
        expect: bag(
            [['userId', 'alice', ''], ['serverNode', 'DF 28', ''], ['isProduction', 'false', '']],
            'userId=alice,serverNode=DF%2028,isProduction=false',
        ),
    },
    {
        id: 'bg-multiple-lines',
        spec: `${BG}: "Multiple baggage headers are allowed. Values can be combined in a single header according to RFC 7230."`,
        propagators: 'baggage',
        headers: [['baggage', 'userId=alice'], ['baggage', 'serverNode=DF%2028,isProduction=false']],
        expect: bag(
            [['userId', 'alice', ''], ['serverNode', 'DF 28', ''], ['isProduction', 'false', '']],
            'userId=alice,serverNode=DF%2028,isProduction=false',
        ),
    },
    {
        id: 'bg-ows',
        spec: `${BG}, 'key' and 'value': "Leading and trailing whitespaces (OWS) are allowed and are not considered to be a part of the key." ('Values and names might begin and end with spaces')`,
        propagators: 'baggage',
        headers: [['baggage', 'userId =   alice'], ['baggage', 'serverNode = DF%2028, isProduction = false']],
        expect: bag(
            [['userId', 'alice', ''], ['serverNode', 'DF 28', ''], ['isProduction', 'false', '']],
            'userId=alice,serverNode=DF%2028,isProduction=false',
        ),
    },
    {
        id: 'bg-percent-encoded-utf8',
        spec: `${BG}, 'value': "Any code points outside of the baggage-octet range MUST be percent-encoded." (the 'Amélie' example)`,
        propagators: 'baggage',
        headers: [['baggage', 'userId=Am%C3%A9lie,serverNode=DF%2028']],
        expect: bag([['userId', 'Amélie', ''], ['serverNode', 'DF 28', '']], 'userId=Am%C3%A9lie,serverNode=DF%2028'),
    },
    {
        id: 'bg-percent-encoding-reserved',
        spec: `${BG}, 'value': "The percent code point (U+0025) MUST be percent-encoded."`,
        propagators: 'baggage',
        headers: [['baggage', 'k=a%2Cb%3Bc%20d%25e%22f%5Cg']],
        expect: bag([['k', 'a,b;c d%e"f\\g', '']], 'k=a%2Cb%3Bc%20d%25e%22f%5Cg'),
    },
    {
        id: 'bg-percent-not-utf8',
        spec: `${BG}, 'value': "When decoding the value, percent-encoded octet sequences that do not match the UTF-8 encoding scheme MUST be replaced with the replacement code point (U+FFFD)."`,
        propagators: 'baggage',
        headers: [['baggage', 'k=a%FFb,ok=1']],
        expect: bag([['k', 'a\uFFFDb', ''], ['ok', '1', '']], 'k=a%EF%BF%BDb,ok=1'),
        known_difference: {
            js: { baggage: [['ok', '1', '']], 'injected.baggage': 'ok=1' },
            why:
                'JS decodes with decodeURIComponent, which throws on %FF, and drops the member. The ' +
                'specification: "When decoding the value, percent-encoded octet sequences that do not ' +
                'match the UTF-8 encoding scheme MUST be replaced with the replacement code point ' +
                '(U+FFFD)." mhd-otel keeps the member with U+FFFD.',
        },
    },
    {
        id: 'bg-bad-percent-escape',
        spec: `${BG}, 'value': "Percent-encoding is defined in RFC3986, Section 2.1"; "The percent code point (U+0025) MUST be percent-encoded."`,
        propagators: 'baggage',
        headers: [['baggage', 'k=50%ZZ,ok=1']],
        expect: bag([['ok', '1', '']], 'ok=1'),
    },
    {
        id: 'bg-value-with-equals',
        spec: `${BG}, 'value': "Note, value MAY contain any number of the equal sign (U+003D) code points. Parsers MUST NOT assume that the equal sign is only used to separate key and value."`,
        propagators: 'baggage',
        headers: [['baggage', 'k=a=b==']],
        expect: bag([['k', 'a=b==', '']], 'k=a=b=='),
    },
    {
        id: 'bg-value-empty',
        spec: `${BG}, 'Definition': "value = *baggage-octet"`,
        propagators: 'baggage',
        headers: [['baggage', 'k=,ok=1']],
        expect: bag([['k', '', ''], ['ok', '1', '']], 'k=,ok=1'),
        known_difference: {
            js: { baggage: [['ok', '1', '']], 'injected.baggage': 'ok=1' },
            why:
                'JS drops a member whose value is empty. The grammar allows it: "value = ' +
                '*baggage-octet" (zero or more); mhd-otel keeps k with the empty value.',
        },
    },
    {
        id: 'bg-value-not-baggage-octet',
        spec: `${BG}, 'value': "Any code points outside of the baggage-octet range MUST be percent-encoded."; "baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E"`,
        propagators: 'baggage',
        headers: [['baggage', 'k=a b,q="x",ok=1']],
        expect: bag([['ok', '1', '']], 'ok=1'),
        known_difference: {
            js: {
                baggage: [['k', 'a b', ''], ['q', '"x"', ''], ['ok', '1', '']],
                'injected.baggage': 'k=a%20b,q=%22x%22,ok=1',
            },
            why:
                'JS does not check the raw value and keeps a space and double quotes in it. The ' +
                'grammar is "value = *baggage-octet" with "baggage-octet = %x21 / %x23-2B / %x2D-3A / ' +
                '%x3C-5B / %x5D-7E", and "Any code points outside of the baggage-octet range MUST be ' +
                'percent-encoded."; such a member is not a list-member, and mhd-otel drops it (the ' +
                'Mutating baggage section: "it MAY remove an offending list-member before propagating ' +
                'the rest of the baggage-string").',
        },
    },
    {
        id: 'bg-key-not-token',
        spec: `${BG}, 'key': "A token which identifies a value in the baggage. token is defined in RFC7230, Section 3.2.6."`,
        propagators: 'baggage',
        headers: [['baggage', 'bad(key=1,bad key=2,ok=3']],
        expect: bag([['ok', '3', '']], 'ok=3'),
        known_difference: {
            js: {
                baggage: [['bad(key', '1', ''], ['bad key', '2', ''], ['ok', '3', '']],
                'injected.baggage': 'bad(key=1,bad%20key=2,ok=3',
            },
            why:
                'JS takes any text before "=" as the key. The key is "key = token ; as defined in RFC ' +
                '7230, Section 3.2.6", which has neither "(" nor a space inside; mhd-otel drops those ' +
                'members ("it MAY remove an offending list-member before propagating the rest").',
        },
    },
    {
        id: 'bg-key-not-percent-decoded',
        spec: `${BG}, 'key': "key = token"; only 'value' and property values are percent-encoded`,
        propagators: 'baggage',
        headers: [['baggage', 'k%41=1']],
        expect: bag([['k%41', '1', '']], 'k%41=1'),
        known_difference: {
            js: { baggage: [['kA', '1', '']], 'injected.baggage': 'kA=1' },
            why:
                'JS percent-decodes the key as well (decodeURIComponent), turning k%41 into kA. The ' +
                'specification percent-encodes values only; a key is a token ("key = token"), and "%" ' +
                'is a tchar of RFC 7230, so k%41 is the key itself. mhd-otel keeps it.',
        },
    },
    {
        id: 'bg-no-equals-and-empty-key',
        spec: `${BG}, 'Definition': "list-member = key OWS \\"=\\" OWS value *( OWS \\";\\" OWS property )"`,
        propagators: 'baggage',
        headers: [['baggage', 'novalue,=v,ok=1']],
        expect: bag([['ok', '1', '']], 'ok=1'),
    },
    {
        id: 'bg-empty-members',
        spec: `${BG}, 'Mutating baggage': "it MAY remove an offending list-member before propagating the rest of the baggage-string"`,
        propagators: 'baggage',
        headers: [['baggage', 'a=1,, \t ,b=2,']],
        expect: bag([['a', '1', ''], ['b', '2', '']], 'a=1,b=2'),
    },
    {
        id: 'bg-empty-header',
        spec: `${BG}, 'Definition': a baggage-string has one list-member at least`,
        propagators: 'baggage',
        headers: [['baggage', '']],
        expect: NONE,
    },
    {
        id: 'bg-properties',
        spec: `${BG}, 'property' and 'Limits', 'Example': "baggage: key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"`,
        propagators: 'baggage',
        headers: [['baggage', 'key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue']],
        expect: bag(
            [['key1', 'value1', 'property1;property2'], ['key2', 'value2', ''], ['key3', 'value3', 'propertyKey=propertyValue']],
            'key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue',
        ),
    },
    {
        id: 'bg-property-ows',
        spec: `${BG}, 'property': "Leading and trailing OWS is allowed and is not considered to be a part of the property key or value."`,
        propagators: 'baggage',
        headers: [['baggage', 'k=v ; p1 ;\tp2 = x%20y ']],
        expect: bag([['k', 'v', 'p1;p2=x%20y']], 'k=v;p1;p2=x%20y'),
    },
    {
        id: 'bg-property-key-not-token',
        spec: `${BG}, 'Definition': "property = key OWS \\"=\\" OWS value / key OWS", "key = token"`,
        propagators: 'baggage',
        headers: [['baggage', 'k=v;p(=1,ok=1']],
        expect: bag([['ok', '1', '']], 'ok=1'),
        known_difference: {
            js: { baggage: [['k', 'v', 'p(=1'], ['ok', '1', '']], 'injected.baggage': 'k=v;p(=1,ok=1' },
            why:
                'JS keeps the text after the first ";" as opaque metadata without checking it. A ' +
                'property is "property = key OWS \\"=\\" OWS value / key OWS" with "key = token", and "(" ' +
                'is not a tchar; mhd-otel drops the offending member ("it MAY remove an offending ' +
                'list-member before propagating the rest of the baggage-string").',
        },
    },
    {
        id: 'bg-duplicate-key-last-wins',
        spec: 'OpenTelemetry specification, Baggage API, \'Overview\': "Each name in Baggage MUST be associated with exactly one value."; W3C Baggage, \'Mutating baggage\': "keys may be deduplicated by keeping the first entry, keeping the last entry, or concatenating values together"',
        propagators: 'baggage',
        headers: [['baggage', 'k=1,other=2'], ['baggage', 'k=3']],
        expect: bag([['other', '2', ''], ['k', '3', '']], 'other=2,k=3'),
    },
    {
        id: 'bg-180-members',
        spec: `${BG}, 'Definition': "baggage-string = list-member 0*179( OWS \\",\\" OWS list-member )"`,
        propagators: 'baggage',
        headers: [['baggage', bagMembers(180).map(([k, v]) => `${k}=${v}`).join(',')]],
        expect: bag(bagMembers(180), bagMembers(180).map(([k, v]) => `${k}=${v}`).join(',')),
    },
    {
        id: 'bg-181-members',
        spec: `${BG}, 'Limits': "If either of the above conditions is not met, a platform MAY drop list-members until both conditions are met."`,
        propagators: 'baggage',
        headers: [['baggage', bagMembers(100).map(([k, v]) => `${k}=${v}`).join(',')], ['baggage', bagMembers(181).slice(100).map(([k, v]) => `${k}=${v}`).join(',')]],
        expect: bag(bagMembers(180), bagMembers(180).map(([k, v]) => `${k}=${v}`).join(',')),
    },
    {
        id: 'bg-8192-bytes-kept',
        spec: `${BG}, 'Limits': "A platform MUST propagate all list-members including any list-members added by the platform whenever both of these conditions are met: ... The resulting baggage-string is of size 8192 bytes or less."`,
        propagators: 'baggage',
        headers: [['baggage', `a=${'x'.repeat(4094)},b=${'y'.repeat(4093)}`]],
        expect: bag([['a', 'x'.repeat(4094), ''], ['b', 'y'.repeat(4093), '']], `a=${'x'.repeat(4094)},b=${'y'.repeat(4093)}`),
    },
    {
        id: 'bg-one-member-of-5000-bytes',
        spec: `${BG}, 'Limits': "A platform MUST propagate all list-members ... whenever both of these conditions are met: Condition 1: The resulting baggage-string contains 64 list-members or less. Condition 2: The resulting baggage-string is of size 8192 bytes or less."`,
        propagators: 'baggage',
        headers: [['baggage', `big=${'x'.repeat(4996)},ok=1`]],
        expect: bag([['big', 'x'.repeat(4996), ''], ['ok', '1', '']], `big=${'x'.repeat(4996)},ok=1`),
        known_difference: {
            js: { baggage: [['ok', '1', '']], 'injected.baggage': 'ok=1' },
            why:
                'JS drops a list-member longer than 4096 bytes (BAGGAGE_MAX_PER_NAME_VALUE_PAIRS, a ' +
                'limit of earlier drafts). The specification has no per-member limit: "A platform MUST ' +
                'propagate all list-members including any list-members added by the platform whenever ' +
                'both of these conditions are met: Condition 1: The resulting baggage-string contains ' +
                '64 list-members or less. Condition 2: The resulting baggage-string is of size 8192 ' +
                'bytes or less." These two members, 5005 bytes in all, meet both; mhd-otel keeps them.',
        },
    },
    {
        id: 'bg-over-8192-bytes-across-lines',
        spec: `${BG}, 'Limits': "If there are multiple baggage headers, all limits apply to the combination of all baggage headers and not each header individually."`,
        propagators: 'baggage',
        headers: BAG_3000.map((m) => ['baggage', m]),
        expect: bag([['a', 'x'.repeat(2998), ''], ['b', 'x'.repeat(2998), '']], BAG_3000.slice(0, 2).join(',')),
    },
    {
        id: 'bg-over-8192-bytes-later-member-fits',
        spec: `${BG}, 'Limits': "The selection of which list-members to drop and their order is unspecified and left to the implementer. ... An implementor or platform MAY define higher limits and SHOULD propagate as much baggage information as is reasonable within their requirements."`,
        propagators: 'baggage',
        headers: [['baggage', [...BAG_3000, 'z=1'].join(',')]],
        expect: bag(
            [['a', 'x'.repeat(2998), ''], ['b', 'x'.repeat(2998), ''], ['z', '1', '']],
            [BAG_3000[0], BAG_3000[1], 'z=1'].join(','),
        ),
        known_difference: {
            js: {
                baggage: [['a', 'x'.repeat(2998), ''], ['b', 'x'.repeat(2998), '']],
                'injected.baggage': BAG_3000.slice(0, 2).join(','),
            },
            why:
                'JS stops reading at the first member that would take the baggage over 8192 bytes; ' +
                'mhd-otel drops that member and goes on, keeping z=1, which fits. Both are allowed ' +
                '("The selection of which list-members to drop and their order is unspecified and ' +
                'left to the implementer."); mhd-otel follows "SHOULD propagate as much baggage ' +
                'information as is reasonable within their requirements".',
        },
    },

    // ---- B3 single header ------------------------------------------------------------
    {
        id: 'b3-single-accept',
        spec: `${ZIPKIN}, 'Single Header'; ${B3}, 'B3 Inject': "MUST default to injecting B3 using the single-header format"`,
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}-1`]],
        expect: b3ctx({ injected: b3single(B3T, B3S, '1') }),
    },
    {
        id: 'b3-single-deny',
        spec: `${ZIPKIN}, 'Single Header', 'Sampling State': "Deny: 0"`,
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}-0`]],
        expect: b3ctx({ sampled: false, injected: b3single(B3T, B3S, '0') }),
    },
    {
        id: 'b3-single-debug',
        spec: `${B3}, 'B3 Extract': "MUST preserve a debug trace flag, if received, and propagate it with subsequent requests. Additionally, an OpenTelemetry implementation MUST set the sampled trace flag when the debug flag is set."`,
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}-d`]],
        expect: b3ctx({ debug: true, injected: b3single(B3T, B3S, 'd') }),
    },
    {
        id: 'b3-single-deferred',
        spec: `${ZIPKIN}, 'Sampling State': "In all known encodings, defer is the absence of sampling state."`,
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}`]],
        expect: b3ctx({ sampled: false, injected: b3single(B3T, B3S, '0') }),
    },
    {
        id: 'b3-single-parent-span-id',
        spec: `${B3}, 'B3 Inject': "MUST NOT propagate X-B3-ParentSpanId as OpenTelemetry does not support reusing the same ID for both sides of a request."`,
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}-1-${B3P}`]],
        expect: b3ctx({ injected: b3single(B3T, B3S, '1') }),
    },
    {
        id: 'b3-single-64-bit-trace-id',
        spec: `${ZIPKIN}, 'Single Header', 'TraceId': "The first position of the b3 value is the 32 or 16 lower-hex character TraceId."`,
        propagators: 'b3',
        headers: [['b3', `${B3T64}-${B3S}-1`]],
        expect: b3ctx({ trace: B3T64_PADDED, injected: b3single(B3T64_PADDED, B3S, '1') }),
    },
    {
        id: 'b3-single-sampling-state-only',
        spec: `${ZIPKIN}, 'Single Header': "A deny decision may omit identifiers and look like this: b3: 0"`,
        propagators: 'b3',
        headers: [['b3', '0']],
        expect: NONE,
    },
    {
        id: 'b3-single-uppercase',
        spec: `${ZIPKIN}, 'Single Header', 'TraceId': "32 or 16 lower-hex character TraceId"`,
        propagators: 'b3',
        headers: [['b3', `${B3T.toUpperCase()}-${B3S.toUpperCase()}-1`]],
        expect: NONE,
    },
    {
        id: 'b3-single-zero-trace-id',
        spec: `${ZIPKIN}, 'Identifiers'; OpenTelemetry: an all-zero trace id is not a valid SpanContext`,
        propagators: 'b3',
        headers: [['b3', `${'0'.repeat(32)}-${B3S}-1`]],
        expect: NONE,
    },
    {
        id: 'b3-single-bad-sampling-state',
        spec: `${ZIPKIN}, 'Single Header', 'Sampling State': "Accept: 1 / Deny: 0 / Debug: d"`,
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}-x`]],
        expect: NONE,
        known_difference: {
            js: {
                valid: true,
                trace_id: B3T,
                span_id: B3S,
                'injected.b3': `${B3T}-${B3S}-0`,
            },
            why: WHY_B3_ANCHOR,
        },
    },
    {
        id: 'b3-single-trace-id-20-characters',
        spec: `${ZIPKIN}, 'Single Header', 'TraceId': "The first position of the b3 value is the 32 or 16 lower-hex character TraceId."`,
        propagators: 'b3',
        headers: [['b3', `0123${B3T64}-${B3S}-1`]],
        expect: NONE,
        known_difference: {
            js: {
                valid: true,
                trace_id: B3T64_PADDED,
                span_id: B3S,
                sampled: true,
                'injected.b3': `${B3T64_PADDED}-${B3S}-1`,
            },
            why: WHY_B3_ANCHOR,
        },
    },
    {
        id: 'b3-single-two-lines',
        spec: 'RFC 7230 section 3.2.2: "A sender MUST NOT generate multiple header fields with the same field name in a message unless either the entire field value for that header field is defined as a comma-separated list"; B3 Propagation, \'Single Header\'',
        propagators: 'b3',
        headers: [['b3', `${B3T}-${B3S}-1`], ['b3', `${B3T}-${B3P}-0`]],
        expect: NONE,
        known_difference: {
            js: {
                valid: true,
                trace_id: B3T,
                span_id: B3S,
                sampled: true,
                'injected.b3': `${B3T}-${B3S}-1`,
            },
            why:
                'JS takes the first of two b3 lines. b3 holds one value, not a comma-separated list, ' +
                'so two lines are not one b3 value (RFC 7230 section 3.2.2: "A sender MUST NOT generate ' +
                'multiple header fields with the same field name in a message unless either the entire ' +
                'field value for that header field is defined as a comma-separated list"; their ' +
                'combination "a, b" does not parse), and the B3 specification does not define a ' +
                'repeated single header: mhd-otel takes neither, as for traceparent.',
        },
    },

    // ---- B3 multiple headers ------------------------------------------------------------
    {
        id: 'b3multi-accept',
        spec: `${ZIPKIN}, 'Multiple Headers'; ${B3}, 'B3 Inject': "MUST provide configuration to change the default injection format to B3 multi-header"`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-ParentSpanId', B3P], ['X-B3-Sampled', '1']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
    },
    {
        id: 'b3multi-deny',
        spec: `${ZIPKIN}, 'Multiple Headers', 'Sampling State': "a deny as X-B3-Sampled: 0"`,
        propagators: 'b3multi',
        headers: [['x-b3-traceid', B3T], ['x-b3-spanid', B3S], ['x-b3-sampled', '0']],
        expect: b3ctx({ sampled: false, injected: b3multi(B3T, B3S, '0') }),
    },
    {
        id: 'b3multi-deferred',
        spec: `${ZIPKIN}, 'Multiple Headers', 'Sampling State': "Absent means defer the decision to the receiver of this header."`,
        propagators: 'b3multi',
        headers: [['X-B3-TRACEID', B3T], ['X-B3-SPANID', B3S]],
        expect: b3ctx({ sampled: false, injected: b3multi(B3T, B3S, '0') }),
    },
    {
        id: 'b3multi-64-bit-trace-id',
        spec: `${ZIPKIN}, 'Multiple Headers', 'TraceId': "The X-B3-TraceId header is encoded as 32 or 16 lower-hex characters."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T64], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1']],
        expect: b3ctx({ trace: B3T64_PADDED, injected: b3multi(B3T64_PADDED, B3S, '1') }),
    },
    {
        id: 'b3multi-sampled-true',
        spec: `${ZIPKIN}, 'Sampling State': "While you shouldn't encode X-B3-Sampled as true or false, a lenient implementation may accept them."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', 'true']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
    },
    {
        id: 'b3multi-sampled-malformed',
        spec: `${ZIPKIN}, 'Multiple Headers': "An empty header (ex. X-B3-Sampled: ) or an arbitrary nonsense value (ex X-B3-ParentSpanId: -) are examples of malformed data."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', 'maybe']],
        expect: NONE,
    },
    {
        id: 'b3multi-debug-flag',
        spec: `${ZIPKIN}, 'Debug Flag': "Debug is encoded as X-B3-Flags: 1. ... Debug implies an accept decision, so don't also send the X-B3-Sampled header."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Flags', '1']],
        expect: b3ctx({ debug: true, injected: b3debug(B3T, B3S) }),
    },
    {
        id: 'b3multi-debug-flag-overrides-deny',
        spec: `${B3}, 'B3 Extract': "an OpenTelemetry implementation MUST set the sampled trace flag when the debug flag is set"`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '0'], ['X-B3-Flags', '1']],
        expect: b3ctx({ debug: true, injected: b3debug(B3T, B3S) }),
    },
    {
        id: 'b3multi-flags-other-value-ignored',
        spec: `${ZIPKIN}, 'Debug Flag': "Debug is encoded as X-B3-Flags: 1. Absent or any other value can be ignored."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1'], ['X-B3-Flags', '2']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
    },
    {
        id: 'b3multi-span-id-missing',
        spec: `${ZIPKIN}, 'Multiple Headers', 'SpanId': "Unless propagating only the Sampling State, the X-B3-SpanId header is required."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-Sampled', '1']],
        expect: NONE,
    },
    {
        id: 'b3multi-uppercase-trace-id',
        spec: `${ZIPKIN}, 'Multiple Headers', 'TraceId': "The X-B3-TraceId header is encoded as 32 or 16 lower-hex characters."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T.toUpperCase()], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1']],
        expect: NONE,
        known_difference: {
            js: {
                valid: true,
                trace_id: B3T.toUpperCase(),
                span_id: B3S,
                sampled: true,
                'injected.x-b3-traceid': B3T.toUpperCase(),
                'injected.x-b3-spanid': B3S,
                'injected.x-b3-sampled': '1',
            },
            why:
                "JS checks X-B3-TraceId with isValidTraceId, which takes upper-case hex, and sends the " +
                'id on in upper case. B3: "The X-B3-TraceId header is encoded as 32 or 16 lower-hex ' +
                'characters." mhd-otel rejects it.',
        },
    },
    {
        id: 'b3multi-trace-id-20-characters',
        spec: `${ZIPKIN}, 'Multiple Headers', 'TraceId': "The X-B3-TraceId header is encoded as 32 or 16 lower-hex characters."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', `0123${B3T64}`], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1']],
        expect: NONE,
        known_difference: {
            js: {
                valid: true,
                trace_id: `000000000000${'0123' + B3T64}`,
                span_id: B3S,
                sampled: true,
                'injected.x-b3-traceid': `000000000000${'0123' + B3T64}`,
                'injected.x-b3-spanid': B3S,
                'injected.x-b3-sampled': '1',
            },
            why:
                'JS pads any X-B3-TraceId shorter than 32 characters with zeros, so 20 hex characters ' +
                'pass. B3: "The X-B3-TraceId header is encoded as 32 or 16 lower-hex characters." ' +
                'mhd-otel rejects other lengths.',
        },
    },
    {
        id: 'b3multi-ows',
        spec: 'RFC 7230 section 3.2: "header-field = field-name \\":\\" OWS field-value OWS"; B3 Propagation, \'Multiple Headers\'',
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', ` ${B3T}\t`], ['X-B3-SpanId', `\t${B3S} `], ['X-B3-Sampled', ' 1 ']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
        known_difference: {
            js: {
                valid: false,
                trace_id: '',
                span_id: '',
                sampled: false,
                'injected.x-b3-traceid': null,
                'injected.x-b3-spanid': null,
                'injected.x-b3-sampled': null,
            },
            why:
                'JS compares the raw X-B3-* values, whitespace included (Node.js\'s HTTP parser ' +
                'strips it before a propagator sees it, other carriers may not). Optional whitespace ' +
                'around a field value is not part of it (RFC 7230 section 3.2: "header-field = ' +
                'field-name \\":\\" OWS field-value OWS"); mhd-otel strips it.',
        },
    },
    {
        id: 'b3multi-trace-id-two-lines',
        spec: `${ZIPKIN}, 'Multiple Headers': "When extracting state headers, the first value wins."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-TraceId', B3T64], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
    },
    {
        id: 'b3multi-sampled-two-lines',
        spec: `${ZIPKIN}, 'Multiple Headers': "When extracting state headers, the first value wins."`,
        propagators: 'b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1'], ['X-B3-Sampled', '0']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
    },

    // ---- B3: both forms, precedence and the debug flag --------------------------------
    {
        id: 'b3-single-wins-over-multi',
        spec: `${B3}, 'B3 Extract': "MUST attempt to extract B3 encoded using single and multi-header formats. The single-header variant takes precedence over the multi-header version."`,
        propagators: 'b3multi',
        headers: [['b3', `${B3T}-${B3S}-1`], ['X-B3-TraceId', B3T64], ['X-B3-SpanId', B3P], ['X-B3-Sampled', '0']],
        expect: b3ctx({ injected: b3multi(B3T, B3S, '1') }),
    },
    {
        id: 'b3-multi-read-by-b3',
        spec: `${B3}, 'Configuration': "B3 Single | Single, Multi | Single" (extract order, inject format)`,
        propagators: 'b3',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1']],
        expect: b3ctx({ injected: b3single(B3T, B3S, '1') }),
    },
    {
        id: 'b3-invalid-single-falls-back-to-multi',
        spec: `${B3}, 'B3 Extract': "MUST attempt to extract B3 encoded using single and multi-header formats."`,
        propagators: 'b3',
        headers: [['b3', 'not-a-b3-value'], ['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1']],
        expect: b3ctx({ injected: b3single(B3T, B3S, '1') }),
        known_difference: {
            js: { valid: false, trace_id: '', span_id: '', sampled: false, 'injected.b3': null },
            why:
                "JS's B3Propagator reads only the single header when a b3 header is present, valid or " +
                'not, and never looks at the X-B3-* headers then. The OpenTelemetry specification, B3 ' +
                'Extract: propagators "MUST attempt to extract B3 encoded using single and multi-header ' +
                'formats. The single-header variant takes precedence over the multi-header version." ' +
                'A b3 value that gives no context takes no precedence; mhd-otel goes on to X-B3-*.',
        },
    },
    {
        id: 'b3-debug-single-to-multi',
        spec: `${B3}, 'B3 Extract': "MUST preserve a debug trace flag, if received, and propagate it with subsequent requests."`,
        propagators: 'b3multi',
        headers: [['b3', `${B3T}-${B3S}-d`]],
        expect: b3ctx({ debug: true, injected: b3debug(B3T, B3S) }),
        known_difference: {
            js: { 'injected.x-b3-flags': null, 'injected.x-b3-sampled': '1' },
            why: WHY_B3_DEBUG,
        },
    },
    {
        id: 'b3-debug-multi-to-single',
        spec: `${B3}, 'B3 Extract': "MUST preserve a debug trace flag, if received, and propagate it with subsequent requests."`,
        propagators: 'b3',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Flags', '1']],
        expect: b3ctx({ debug: true, injected: b3single(B3T, B3S, 'd') }),
        known_difference: { js: { 'injected.b3': `${B3T}-${B3S}-1` }, why: WHY_B3_DEBUG },
    },
    {
        id: 'b3-debug-both-forms-injected',
        spec: `${B3}, 'B3 Extract' and 'B3 Inject'; ${ZIPKIN}, 'Debug Flag'`,
        propagators: 'b3,b3multi',
        headers: [['b3', `${B3T}-${B3S}-d`]],
        expect: b3ctx({ debug: true, injected: { ...b3single(B3T, B3S, 'd'), ...b3debug(B3T, B3S) } }),
        known_difference: {
            js: { 'injected.x-b3-flags': null, 'injected.x-b3-sampled': '1' },
            why: WHY_B3_DEBUG,
        },
    },

    // ---- propagator sets ------------------------------------------------------------------
    {
        id: 'set-default-tracecontext-baggage',
        spec: 'OpenTelemetry specification, SDK environment variables: OTEL_PROPAGATORS default "tracecontext,baggage"; Propagators API, \'Composite Propagator\'',
        propagators: 'tracecontext,baggage',
        headers: [['traceparent', tp('01', '00', T2, S2)], ['tracestate', 'congo=t61rcWkgMzE'], ['baggage', 'userId=alice']],
        expect: {
            ...w3c({ trace: T2, span: S2, tracestate: 'congo=t61rcWkgMzE' }),
            baggage: [['userId', 'alice', '']],
            injected: { traceparent: tp('01', '00', T2, S2), tracestate: 'congo=t61rcWkgMzE', baggage: 'userId=alice' },
        },
    },
    {
        id: 'set-tracecontext-invalid-b3-valid',
        spec: `OpenTelemetry specification, Propagators API, 'Composite Extract'; core/propagation.h: the first valid context wins`,
        propagators: 'tracecontext,b3',
        headers: [['traceparent', tp('0g')], ['tracestate', 'foo=1'], ['b3', `${B3T}-${B3S}-1`]],
        expect: b3ctx({ injected: { traceparent: tp('01', '00', B3T, B3S), ...b3single(B3T, B3S, '1') } }),
    },
    {
        id: 'set-both-valid-first-wins',
        spec: `OpenTelemetry specification, Propagators API, 'Composite Propagator': "The resulting composite Propagator will invoke the Propagators, Injectors, or Extractors, in the order they were specified."`,
        propagators: 'tracecontext,b3',
        headers: [['traceparent', tp('01', '00', T2, S2)], ['tracestate', 'foo=1'], ['b3', `${B3T}-${B3S}-0`]],
        expect: {
            ...w3c({ trace: T2, span: S2, tracestate: 'foo=1' }),
            injected: { traceparent: tp('01', '00', T2, S2), tracestate: 'foo=1', ...b3single(T2, S2, '1') },
        },
        known_difference: {
            js: {
                trace_id: B3T,
                span_id: B3S,
                sampled: false,
                tracestate: '',
                'injected.traceparent': tp('00', '00', B3T, B3S),
                'injected.tracestate': null,
                'injected.b3': `${B3T}-${B3S}-0`,
            },
            why: WHY_COMPOSITE,
        },
    },
    {
        id: 'set-b3-first-wins',
        spec: `OpenTelemetry specification, Propagators API, 'Composite Propagator'`,
        propagators: 'b3,tracecontext',
        headers: [['traceparent', tp('01', '00', T2, S2)], ['b3', `${B3T}-${B3S}-0`]],
        expect: b3ctx({ sampled: false, injected: { ...b3single(B3T, B3S, '0'), traceparent: tp('00', '00', B3T, B3S) } }),
        known_difference: {
            js: {
                trace_id: T2,
                span_id: S2,
                sampled: true,
                'injected.traceparent': tp('01', '00', T2, S2),
                'injected.b3': `${T2}-${S2}-1`,
            },
            why: WHY_COMPOSITE,
        },
    },
    {
        id: 'set-b3multi-then-tracecontext',
        spec: `OpenTelemetry specification, Propagators API, 'Composite Inject': each propagator of the set writes its headers`,
        propagators: 'b3multi,tracecontext',
        headers: [['traceparent', tp('01', '00', T2, S2)], ['tracestate', 'foo=1']],
        expect: {
            ...w3c({ trace: T2, span: S2, tracestate: 'foo=1' }),
            injected: { ...b3multi(T2, S2, '1'), traceparent: tp('01', '00', T2, S2), tracestate: 'foo=1' },
        },
    },
    {
        id: 'set-all-four',
        spec: `OpenTelemetry specification, SDK environment variables, OTEL_PROPAGATORS: "tracecontext", "baggage", "b3", "b3multi"`,
        propagators: 'tracecontext,baggage,b3,b3multi',
        headers: [['X-B3-TraceId', B3T], ['X-B3-SpanId', B3S], ['X-B3-Sampled', '1'], ['baggage', 'k=v;p']],
        expect: {
            ...b3ctx({ injected: {} }),
            baggage: [['k', 'v', 'p']],
            injected: { traceparent: tp('01', '00', B3T, B3S), baggage: 'k=v;p', ...b3single(B3T, B3S, '1'), ...b3multi(B3T, B3S, '1') },
        },
    },
    {
        id: 'set-baggage-only',
        spec: `OpenTelemetry specification, Baggage API, 'Propagation'; a set without tracecontext neither reads nor writes traceparent`,
        propagators: 'baggage',
        headers: [['traceparent', tp('01')], ['baggage', 'k=v']],
        expect: bag([['k', 'v', '']], 'k=v'),
    },
    {
        id: 'set-tracecontext-only',
        spec: `OpenTelemetry specification, Propagators API; a set without baggage neither reads nor writes baggage`,
        propagators: 'tracecontext',
        headers: [['traceparent', tp('01')], ['baggage', 'k=v']],
        expect: w3c(),
    },
    {
        id: 'set-none',
        spec: 'OpenTelemetry specification, SDK environment variables, OTEL_PROPAGATORS: "none": No automatically configured propagator.',
        propagators: 'none',
        headers: [['traceparent', tp('01')], ['baggage', 'k=v'], ['b3', `${B3T}-${B3S}-1`]],
        expect: NONE,
    },
];

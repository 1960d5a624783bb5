// compare.js - runs the propagation vectors (vectors.js) through the official
// OpenTelemetry JavaScript propagators and through mhd-otel's harness
// (t/conformance/propagate.c), and compares what each extracts and injects.
//
// usage: NODE_PATH=BUILD/conformance/node_modules node t/conformance/compare.js HARNESS
//            [--show] [ID...]
//   HARNESS  the propagate binary (BUILD/t/propagate)
//   --show   print both sides of every vector compared
//   ID...    compare only these vectors
// Prints one line per vector: "PASS id", "PASS id (known difference: ...)" or
// "DIFF id: ..." with indented detail lines, then the summary
// "conformance: T vectors: N agree, K known differences, M disagreements".
// Exits 0 when there is no disagreement, 1 when there is one, 2 when the
// comparison could not be run.
'use strict';

const { spawnSync } = require('child_process');
const api = require('@opentelemetry/api');
const core = require('@opentelemetry/core');
const b3 = require('@opentelemetry/propagator-b3');
const vectors = require('./vectors.js');

// The key under which @opentelemetry/propagator-b3 keeps a received debug
// flag: createContextKey is Symbol.for(description).
const B3_DEBUG_FLAG_KEY = api.createContextKey('OpenTelemetry Context Key B3 Debug Flag');

// Fields of a result, compared in this order. Injected headers are compared
// one by one as "injected.<name>".
const FIELDS = ['valid', 'trace_id', 'span_id', 'sampled', 'debug', 'tracestate', 'baggage'];

function fail(msg) {
    process.stderr.write(`compare.js: ${msg}\n`);
    process.exit(2);
}

// ---- the JavaScript side ---------------------------------------------------

const JS_PROPAGATORS = {
    tracecontext: () => new core.W3CTraceContextPropagator(),
    baggage: () => new core.W3CBaggagePropagator(),
    b3: () => new b3.B3Propagator({ injectEncoding: b3.B3InjectEncoding.SINGLE_HEADER }),
    b3multi: () => new b3.B3Propagator({ injectEncoding: b3.B3InjectEncoding.MULTI_HEADER }),
};

// A CompositePropagator of the names in list ("tracecontext,baggage"), in
// order, each once (OTEL_PROPAGATORS: "Values MUST be deduplicated"); "none"
// is the empty one.
function jsPropagator(list) {
    const names = [...new Set(list.toLowerCase().split(/[\s,]+/).filter((n) => n !== '' && n !== 'none'))];
    const propagators = names.map((n) => {
        if (!(n in JS_PROPAGATORS)) throw new Error(`unknown propagator "${n}"`);
        return JS_PROPAGATORS[n]();
    });
    return new core.CompositePropagator({ propagators });
}

// The carrier as an HTTP server hands it to the propagators: names in
// lowercase; a header received on several lines is the array of its lines,
// in order, as Node.js's IncomingMessage.headersDistinct has it, and one
// received on one line its string (every propagator here reads a one-line
// array as that line).
function jsCarrier(headers) {
    const lines = Object.create(null);
    for (const [name, value] of headers) {
        const key = name.toLowerCase();
        (lines[key] = lines[key] || []).push(value);
    }
    const carrier = Object.create(null);
    for (const key of Object.keys(lines)) {
        carrier[key] = lines[key].length === 1 ? lines[key][0] : lines[key];
    }
    return carrier;
}

const getter = {
    get: (carrier, key) => carrier[key.toLowerCase()],
    keys: (carrier) => Object.keys(carrier),
};

const setter = {
    set: (carrier, key, value) => {
        carrier[key.toLowerCase()] = value;
    },
};

// Extract with the JS propagators, then inject the extracted context (its
// span context, baggage and B3 debug flag; no new span) into a plain object.
function runJs(v) {
    const propagator = jsPropagator(v.propagators);
    const ctx = propagator.extract(api.ROOT_CONTEXT, jsCarrier(v.headers), getter);
    const sc = api.trace.getSpanContext(ctx);
    const valid = sc !== undefined && api.isSpanContextValid(sc);
    const bag = api.propagation.getBaggage(ctx);
    const injected = {};
    propagator.inject(ctx, injected, setter);
    return {
        valid,
        trace_id: valid ? sc.traceId : '',
        span_id: valid ? sc.spanId : '',
        sampled: valid && (sc.traceFlags & api.TraceFlags.SAMPLED) === api.TraceFlags.SAMPLED,
        debug: valid && Boolean(ctx.getValue(B3_DEBUG_FLAG_KEY)),
        tracestate: valid && sc.traceState ? sc.traceState.serialize() : '',
        baggage: bag
            ? bag.getAllEntries().map(([k, e]) => [k, e.value, e.metadata ? e.metadata.toString() : ''])
            : [],
        injected,
    };
}

// ---- the C side --------------------------------------------------------------

// Run the harness once with every vector; its results by id.
function runC(harness, list) {
    const input = list
        .map((v) => JSON.stringify({ id: v.id, propagators: v.propagators, headers: v.headers }))
        .join('\n');
    const r = spawnSync(harness, [], {
        input: input + '\n',
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        timeout: 60000,
    });
    if (r.error) fail(`cannot run ${harness}: ${r.error.message}`);
    if (r.status !== 0) {
        process.stderr.write(r.stderr || '');
        fail(`${harness} exited with ${r.status !== null ? `status ${r.status}` : r.signal}`);
    }
    const byId = new Map();
    for (const line of r.stdout.split('\n')) {
        if (line === '') continue;
        let o;
        try {
            o = JSON.parse(line);
        } catch (e) {
            fail(`${harness} printed a line that is not JSON: ${line.slice(0, 200)}`);
        }
        byId.set(o.id, o);
    }
    return byId;
}

// ---- comparison -----------------------------------------------------------

// Baggage properties without OWS around each property and its '=': what a
// property is, whatever whitespace the sender put in (W3C Baggage,
// "property": "Leading and trailing OWS is allowed and is not considered to
// be a part of the property key or value").
function normProps(props) {
    return props
        .split(';')
        .map((p) => {
            const eq = p.indexOf('=');
            return eq < 0 ? p.trim() : `${p.slice(0, eq).trim()}=${p.slice(eq + 1).trim()}`;
        })
        .filter((p) => p !== '')
        .join(';');
}

// Baggage entries in key order: the OpenTelemetry Baggage API, "Get All
// Values": "The order of name/value pairs MUST NOT be significant."
function normEntries(entries) {
    return entries
        .map(([k, val, props]) => [k, val, normProps(props || '')])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// Percent-decode a baggage value; bytes that are not UTF-8 become U+FFFD.
function pctDecode(s) {
    const bytes = [];
    for (let i = 0; i < s.length; i++) {
        const m = s[i] === '%' ? /^[0-9a-fA-F]{2}$/.exec(s.slice(i + 1, i + 3)) : null;
        if (m) {
            bytes.push(parseInt(m[0], 16));
            i += 2;
        } else {
            bytes.push(...Buffer.from(s[i], 'utf8'));
        }
    }
    return Buffer.from(bytes).toString('utf8');
}

// The members of a baggage header value: encodings may differ (W3C Baggage,
// "value": "Code points which are not required to be percent-encoded MAY be
// percent-encoded"), what they decode to may not.
function parseBaggageHeader(value) {
    return normEntries(
        value
            .split(',')
            .map((m) => m.trim())
            .filter((m) => m !== '')
            .map((m) => {
                const semi = m.indexOf(';');
                const kv = semi < 0 ? m : m.slice(0, semi);
                const eq = kv.indexOf('=');
                const key = eq < 0 ? kv.trim() : kv.slice(0, eq).trim();
                const val = eq < 0 ? '' : pctDecode(kv.slice(eq + 1).trim());
                return [key, val, semi < 0 ? '' : m.slice(semi + 1)];
            }),
    );
}

// The comparable form of one field: undefined stands for an absent header.
function fieldKey(name, value) {
    if (value === undefined || value === null) return 'absent';
    if (name === 'baggage') return JSON.stringify(normEntries(value));
    if (name === 'injected.baggage') return JSON.stringify(parseBaggageHeader(value));
    return JSON.stringify(value);
}

function fieldOf(result, name) {
    if (name.startsWith('injected.')) return result.injected[name.slice('injected.'.length)];
    return result[name];
}

function show(value) {
    if (value === undefined || value === null) return '(absent)';
    const s = JSON.stringify(value);
    if (s.length <= 160) return s;
    const size = typeof value === 'string' ? `${value.length} characters` : `${value.length} entries`;
    return `${s.slice(0, 150)}... (${size})`;
}

// Field names of a and b that differ (injected headers of either side).
function diffFields(a, b) {
    const names = [...FIELDS];
    const inj = new Set([...Object.keys(a.injected), ...Object.keys(b.injected)]);
    for (const h of [...inj].sort()) names.push(`injected.${h}`);
    return names.filter((n) => fieldKey(n, fieldOf(a, n)) !== fieldKey(n, fieldOf(b, n)));
}

// The fields the specification gives a value for in v.expect (any of
// FIELDS; injected: the complete set of headers written, so every header
// either side wrote), and that value (undefined: a header not written).
function specFields(v, c, js) {
    const out = FIELDS.filter((f) => f in v.expect);
    if ('injected' in v.expect) {
        const names = new Set([...Object.keys(v.expect.injected), ...Object.keys(c.injected), ...Object.keys(js.injected)]);
        for (const h of [...names].sort()) out.push(`injected.${h}`);
    }
    return out;
}

function specValue(v, f) {
    return f.startsWith('injected.') ? v.expect.injected[f.slice('injected.'.length)] : v.expect[f];
}

// The verdict on one vector: { kind: 'agree' | 'known' | 'disagree', lines }.
// A disagreement is mhd-otel not giving what the specification expects, or
// mhd-otel and JS differing where the vector does not document it (or JS
// not giving the documented value).
function judge(v, c, js) {
    if (c === undefined) return { kind: 'disagree', lines: ['the harness printed no result'] };
    if (c.error !== undefined) return { kind: 'disagree', lines: [`the harness: ${c.error}`] };
    const lines = [];
    const same = (f, a, b) => fieldKey(f, a) === fieldKey(f, b);
    const specified = specFields(v, c, js);
    for (const f of specified) {
        const want = specValue(v, f);
        if (!same(f, fieldOf(c, f), want)) {
            const jsToo = same(f, fieldOf(js, f), want) ? 'JS gives that' : `JS gives ${show(fieldOf(js, f))}`;
            lines.push(`${f}: mhd-otel ${show(fieldOf(c, f))}, the specification expects ${show(want)}; ${jsToo}`);
        }
    }
    const diffs = diffFields(c, js);
    const kd = v.known_difference;
    const documented = kd ? Object.keys(kd.js) : [];
    for (const f of diffs) {
        if (documented.includes(f)) {
            if (!same(f, fieldOf(js, f), kd.js[f])) {
                lines.push(`${f}: JS ${show(fieldOf(js, f))}, documented as ${show(kd.js[f])}`);
            }
        } else if (!specified.includes(f) || same(f, fieldOf(c, f), specValue(v, f))) {
            /* (a field where mhd-otel is wrong is reported above) */
            lines.push(`${f}: mhd-otel ${show(fieldOf(c, f))}, JS ${show(fieldOf(js, f))} (not a documented difference)`);
        }
    }
    for (const f of documented) {
        if (!diffs.includes(f)) lines.push(`${f}: documented as a difference, but both give ${show(fieldOf(c, f))}`);
    }
    if (lines.length) return { kind: 'disagree', lines };
    if (diffs.length) return { kind: 'known', lines: [], fields: diffs };
    return { kind: 'agree', lines: [] };
}

// ---- the vectors ------------------------------------------------------------

function checkVectors(list) {
    const ids = new Set();
    for (const v of list) {
        const where = `vector ${JSON.stringify(v.id)}`;
        if (typeof v.id !== 'string' || v.id === '') fail('a vector without an id');
        if (ids.has(v.id)) fail(`${where}: id used twice`);
        ids.add(v.id);
        if (typeof v.spec !== 'string' || v.spec === '') fail(`${where}: no spec citation`);
        if (typeof v.propagators !== 'string') fail(`${where}: no propagators`);
        if (!Array.isArray(v.headers) || !v.headers.every((h) => Array.isArray(h) && h.length === 2)) {
            fail(`${where}: headers must be [name, value] pairs`);
        }
        if (typeof v.expect !== 'object' || typeof v.expect.valid !== 'boolean') {
            fail(`${where}: expect.valid (the specification's outcome) is required`);
        }
        const kd = v.known_difference;
        if (kd !== undefined && (typeof kd.js !== 'object' || typeof kd.why !== 'string' || kd.why === '')) {
            fail(`${where}: known_difference needs js (JS's values) and why`);
        }
    }
}

function main() {
    const args = process.argv.slice(2);
    const showAll = args.includes('--show');
    const rest = args.filter((a) => a !== '--show');
    if (rest.length < 1) fail('usage: node compare.js HARNESS [--show] [ID...]');
    const [harness, ...only] = rest;
    checkVectors(vectors);
    const list = only.length ? vectors.filter((v) => only.includes(v.id)) : vectors;
    if (only.length && list.length !== only.length) fail('unknown vector id');
    const cResults = runC(harness, list);
    let agree = 0;
    let known = 0;
    let disagree = 0;
    for (const v of list) {
        let js;
        try {
            js = runJs(v);
        } catch (e) {
            fail(`vector ${v.id}: the JS propagators failed: ${e.message}`);
        }
        const c = cResults.get(v.id);
        const verdict = judge(v, c, js);
        if (verdict.kind === 'agree') {
            agree++;
            console.log(`PASS ${v.id}`);
        } else if (verdict.kind === 'known') {
            known++;
            console.log(`PASS ${v.id} (known difference: ${verdict.fields.join(', ')})`);
        } else {
            disagree++;
            console.log(`DIFF ${v.id}: ${v.spec}`);
            for (const l of verdict.lines) console.log(`    ${l}`);
        }
        if (showAll) {
            console.log(`    headers:  ${JSON.stringify(v.headers).slice(0, 300)}`);
            console.log(`    mhd-otel: ${JSON.stringify(c).slice(0, 600)}`);
            console.log(`    JS:       ${JSON.stringify(js).slice(0, 600)}`);
        }
    }
    console.log(
        `conformance: ${list.length} vectors: ${agree} agree, ${known} known differences, ${disagree} disagreements`,
    );
    process.exit(disagree === 0 ? 0 : 1);
}

main();

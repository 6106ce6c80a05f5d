/* _junit_c: the JUnit ingest's expat driver in C (accelerates aqe_ci/ingest/junit.py).
 *
 * The pure-Python path -- aqe_ci/ingest/junit.py's _JUnitRun callbacks on a pyexpat parser made by
 * aqe_ci/ingest/safeexpat.py -- is the reference; this module must give byte-identical documents and
 * the same errors, and the tests run both paths over the same inputs.
 *
 * A Scanner is a small stand-in for a pyexpat parser object, built on the interpreter's own expat
 * (the `pyexpat.expat_CAPI` capsule, as _elementtree uses it), namespace-aware with " " as the
 * separator like safeexpat.create_parser(). It has the parts of pyexpat that junit.py uses --
 * Parse(data, isfinal), StartElementHandler, EndElementHandler, CharacterDataHandler (with pyexpat's
 * buffer_text behaviour, same buffer size rules and flush points), StartDoctypeDeclHandler,
 * CurrentLineNumber, ExpatError on malformed input -- and one thing more, the hot path:
 *
 *   a <testcase> (no namespace) directly inside a <testsuite> (no namespace) that ends without a
 *   child element -- or with one <system-out> whose text fits inline, or one <skipped message="..">,
 *   itself without children -- has none of junit.py's status attributes (status, result, outcome,
 *   executed, success), and whose time/line attributes are plain ASCII numbers (a line up to
 *   MAX_LINE), is never shown to Python. Its test item is encoded here (the same JSON as junit.py's
 *   template), its identity hash is kept for the writer's repeat detection, its duration is added to the
 *   running case time, and the encoded lines are handed to run.add_encoded(text, n) in batches.
 *
 * Every other element -- and a held test case that turns out to have children or odd attributes --
 * is passed to the Python handlers exactly as pyexpat would have passed it (a held <testcase> start
 * is replayed first), so everything rarer stays in the Python reference code.
 *
 * Schema: the items written here are valid against $defs/test by construction (string fields from
 * expat, which only produces valid UTF-8; status "passed"; duration finite and >= 0 or null; line an
 * integer 0..MAX_LINE; no other keys), checked again before each item is written.
 *
 * DTDs: the capsule cannot install expat's entity/notation/element/attlist handlers nor stop a parse
 * from inside a handler. A DTD construct can only follow a DOCTYPE, whose start is reported to
 * StartDoctypeDeclHandler (safeexpat's refusal, raising ReportError with the same line). After any
 * handler error the Scanner ignores every further event, like a stopped pyexpat parser, and raises
 * that error when expat returns from the current chunk. No external entity is ever loaded (no
 * external-entity handler is installed; the parser never parses parameter entities).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <expat.h>
#include <math.h>
#include <pyexpat.h>
#include <stdint.h>
#include <string.h>

static struct PyExpat_CAPI *capi;
static PyObject *ExpatError; /* pyexpat.ExpatError */

/* -- growable byte buffers (every size checked) -------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra)
{
    if (extra > (size_t)PY_SSIZE_T_MAX - b->len) {
        PyErr_NoMemory();
        return -1;
    }
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > (size_t)PY_SSIZE_T_MAX / 2 ? need : cap * 2;
    char *p = PyMem_Realloc(b->data, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static void buf_free(Buf *b)
{
    PyMem_Free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* JSON string of UTF-8 text, as json.encoder.encode_basestring (ensure_ascii=False) writes it:
 * '"' and '\\' escaped, \b \f \n \r \t short, other characters below 0x20 as \u00xx, the rest as is. */
static int buf_put_json(Buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_reserve(b, n + 2) < 0) /* the common case: nothing to escape */
        return -1;
    b->data[b->len++] = '"';
    size_t start = 0, i = 0;
    while (i < n) {
        /* eight bytes at a time while none of them needs escaping: no byte < 0x20, '"' or '\\'
         * (the usual "has a zero byte" test on x ^ c, and on x minus 0x20 for the control bytes) */
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
            uint64_t hit = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
            if (hit & highs)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (buf_put(b, s + start, i - start) < 0 || buf_reserve(b, 6) < 0)
            return -1;
        char *o = b->data + b->len;
        switch (c) {
        case '"': o[0] = '\\'; o[1] = '"'; b->len += 2; break;
        case '\\': o[0] = '\\'; o[1] = '\\'; b->len += 2; break;
        case '\b': o[0] = '\\'; o[1] = 'b'; b->len += 2; break;
        case '\f': o[0] = '\\'; o[1] = 'f'; b->len += 2; break;
        case '\n': o[0] = '\\'; o[1] = 'n'; b->len += 2; break;
        case '\r': o[0] = '\\'; o[1] = 'r'; b->len += 2; break;
        case '\t': o[0] = '\\'; o[1] = 't'; b->len += 2; break;
        default:
            o[0] = '\\'; o[1] = 'u'; o[2] = '0'; o[3] = '0'; o[4] = hex[c >> 4]; o[5] = hex[c & 15];
            b->len += 6;
        }
        start = ++i;
    }
    if (buf_put(b, s + start, n - start) < 0)
        return -1;
    return buf_put(b, "\"", 1);
}

/* -- identity hashes of the test cases written here ----------------------------------------------- */

/* An open-addressing set of Py_hash_t (0 marks a free slot; a zero hash is a flag). The writer's
 * repeat bookkeeping keeps hash((suite, classname, name, file)) of every named test in a Python set;
 * for the tens of thousands written here that set is this compact table instead (8 bytes a test, no
 * int objects), and Scanner.finish() adds to the writer's repeat set every hash both have seen. */
typedef struct {
    Py_hash_t *slots;
    size_t cap, n; /* cap: a power of two, or 0 */
    int has_zero;
} HashSet;

/* 1 = already there, 0 = added, -1 = error */
static int hs_add(HashSet *h, Py_hash_t v)
{
    if (v == 0) {
        int had = h->has_zero;
        h->has_zero = 1;
        return had;
    }
    if (2 * (h->n + 1) > h->cap) { /* keep the load under 1/2 */
        size_t cap = h->cap ? h->cap * 2 : 1024;
        if (cap > ((size_t)-1) / sizeof(Py_hash_t) / 2) {
            PyErr_NoMemory();
            return -1;
        }
        Py_hash_t *slots = PyMem_Calloc(cap, sizeof(Py_hash_t));
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i < h->cap; i++) {
            Py_hash_t x = h->slots[i];
            if (x == 0)
                continue;
            size_t j = (size_t)x & (cap - 1);
            while (slots[j] != 0)
                j = (j + 1) & (cap - 1);
            slots[j] = x;
        }
        PyMem_Free(h->slots);
        h->slots = slots;
        h->cap = cap;
    }
    size_t j = (size_t)v & (h->cap - 1);
    while (h->slots[j] != 0) {
        if (h->slots[j] == v)
            return 1;
        j = (j + 1) & (h->cap - 1);
    }
    h->slots[j] = v;
    h->n++;
    return 0;
}

static int hs_has(const HashSet *h, Py_hash_t v)
{
    if (v == 0)
        return h->has_zero;
    if (h->cap == 0)
        return 0;
    for (size_t j = (size_t)v & (h->cap - 1); h->slots[j] != 0; j = (j + 1) & (h->cap - 1))
        if (h->slots[j] == v)
            return 1;
    return 0;
}

/* -- the element stack ------------------------------------------------------------------------- */

enum {
    F_SUITE = 1,   /* a <testsuite> in no namespace: its test cases may take the hot path */
    F_CASE = 2,    /* local name "testcase" (any namespace): Python may add to the case time */
    F_HELD = 4,    /* a <testcase> held here, not (yet) shown to Python */
    F_UNSEEN = 16, /* inside a woken quiet subtree, below its outermost element: Python never saw it */
    F_QUIET = 8,
    F_KID = 32,    /* the held <testcase>'s held child */
    F_HAD_KID = 64, /* a held <testcase> whose child was held (a second child: Python's) */   /* an element Python would only record as _SKIP (nothing read from it or below):
                      not shown to Python unless a test element turns up inside it */
};

typedef struct {
    int flags;
    char *suite;       /* F_SUITE: the suite's name as junit.py's _suite_name gives it (UTF-8) */
    PyObject *suite_s; /* ... as a str, made on first use */
    Buf suite_json;    /* ... JSON-encoded, made on first use */
    char *quiet_name;  /* F_QUIET below a suite (the outermost of a quiet subtree): its name */
} Frame;

/* attributes kept past expat's callback: name\0value\0... and their offsets */
typedef struct {
    Buf data;
    size_t *off;
    Py_ssize_t n, cap;
} Attrs;

enum { KID_OUT = 1, KID_SKIPPED = 2 };

typedef struct {
    PyObject_HEAD
    XML_Parser parser;
    PyObject *start_h, *end_h, *chars_h, *doctype_h; /* Python handlers or NULL */
    PyObject *run;          /* the _JUnitRun: add_encoded(text, n) and case_time */
    PyObject *ids, *dups;   /* the writer's repeat sets (hashes of identities) */
    int project_hosts;      /* Playwright: the suite is "[hostname] name" */
    int failed;             /* a handler raised: ignore events, raise after the chunk */
    int in_parse;
    /* character data, as pyexpat's buffer_text */
    char *text;
    Py_ssize_t text_used, text_size;
    /* the stack */
    Frame *frames;
    Py_ssize_t depth, frames_cap;
    /* the held <testcase>, and its one held child (<system-out> or <skipped>) if any */
    Attrs held, kid;
    int kid_kind;  /* 0 none, KID_OUT, KID_SKIPPED */
    int kid_open;  /* the child has not ended yet: its text goes to kid_text */
    Buf kid_text;
    Py_ssize_t inline_bytes; /* the writer's limits.inline_text_bytes */
    Py_ssize_t out_skipped;  /* skipped tests among the encoded ones */
    /* encoded hot-path items not yet handed over, and the running case time */
    Buf out;
    Py_ssize_t out_n;
    double case_time;
    HashSet seen; /* identity hashes of the tests written here */
} Scanner;

static void fail(Scanner *s) { s->failed = 1; }

/* -- Python calls -------------------------------------------------------------------------------- */

static int call_chars(Scanner *s, const char *data, Py_ssize_t len)
{
    if (s->chars_h == NULL)
        return 0;
    PyObject *str = PyUnicode_DecodeUTF8(data, len, "strict");
    if (str == NULL)
        return -1;
    PyObject *h = s->chars_h;
    Py_INCREF(h);
    PyObject *r = PyObject_CallOneArg(h, str);
    Py_DECREF(h);
    Py_DECREF(str);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* pyexpat's flush_character_buffer */
static int flush_text(Scanner *s)
{
    if (s->text_used == 0)
        return 0;
    Py_ssize_t n = s->text_used;
    s->text_used = 0;
    return call_chars(s, s->text, n);
}

/* hand the encoded hot-path items to run.add_encoded(text, n) */
static int flush_out(Scanner *s)
{
    if (s->out_n == 0)
        return 0;
    PyObject *text = PyUnicode_DecodeUTF8(s->out.data, (Py_ssize_t)s->out.len, "strict");
    if (text == NULL)
        return -1;
    PyObject *r = PyObject_CallMethod(s->run, "add_encoded", "Onn", text, s->out_n, s->out_skipped);
    Py_DECREF(text);
    s->out.len = 0;
    s->out_n = 0;
    s->out_skipped = 0;
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int set_case_time(Scanner *s)
{
    PyObject *f = PyFloat_FromDouble(s->case_time);
    if (f == NULL)
        return -1;
    int rc = PyObject_SetAttrString(s->run, "case_time", f);
    Py_DECREF(f);
    return rc;
}

static int get_case_time(Scanner *s)
{
    PyObject *f = PyObject_GetAttrString(s->run, "case_time");
    if (f == NULL)
        return -1;
    double d = PyFloat_AsDouble(f);
    Py_DECREF(f);
    if (d == -1.0 && PyErr_Occurred())
        return -1;
    s->case_time = d;
    return 0;
}

static PyObject *attrs_dict(const XML_Char **atts)
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    for (; atts[0] != NULL; atts += 2) {
        PyObject *k = PyUnicode_DecodeUTF8(atts[0], (Py_ssize_t)strlen(atts[0]), "strict");
        PyObject *v = k ? PyUnicode_DecodeUTF8(atts[1], (Py_ssize_t)strlen(atts[1]), "strict") : NULL;
        int rc = v ? PyDict_SetItem(d, k, v) : -1;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (rc < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

/* Python's start handler; its return value goes to *result when result is not NULL (a new
 * reference, or NULL when there is no handler). */
static int call_start_r(Scanner *s, const char *name, const XML_Char **atts, PyObject **result)
{
    if (result != NULL)
        *result = NULL;
    if (s->start_h == NULL)
        return 0;
    PyObject *n = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "strict");
    PyObject *a = n ? attrs_dict(atts) : NULL;
    PyObject *r = NULL;
    if (a != NULL) {
        PyObject *h = s->start_h;
        Py_INCREF(h);
        r = PyObject_CallFunctionObjArgs(h, n, a, NULL);
        Py_DECREF(h);
    }
    Py_XDECREF(n);
    Py_XDECREF(a);
    if (r == NULL)
        return -1;
    if (result != NULL)
        *result = r;
    else
        Py_DECREF(r);
    return 0;
}

static int call_start(Scanner *s, const char *name, const XML_Char **atts)
{
    return call_start_r(s, name, atts, NULL);
}

/* an end event for Python. Only a test case's end can write tests (a suite's end writes its
 * outputs elsewhere): before it our items go first, for the order, and the case time is shared. */
static int call_end(Scanner *s, const char *name, int flags)
{
    if ((flags & F_CASE) && flush_out(s) < 0)
        return -1;
    if (s->end_h == NULL)
        return 0;
    if ((flags & F_CASE) && set_case_time(s) < 0)
        return -1;
    PyObject *n = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "strict");
    if (n == NULL)
        return -1;
    PyObject *h = s->end_h;
    Py_INCREF(h);
    PyObject *r = PyObject_CallOneArg(h, n);
    Py_DECREF(h);
    Py_DECREF(n);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    if ((flags & F_CASE) && get_case_time(s) < 0)
        return -1;
    return 0;
}

/* -- the held <testcase> ------------------------------------------------------------------------- */

static int keep_attrs(Attrs *k, const XML_Char **atts)
{
    k->data.len = 0;
    k->n = 0;
    for (; atts[0] != NULL; atts += 2) {
        if (k->n + 2 > k->cap) {
            Py_ssize_t cap = k->cap ? k->cap * 2 : 16;
            size_t *p = PyMem_Resize(k->off, size_t, (size_t)cap);
            if (p == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            k->off = p;
            k->cap = cap;
        }
        for (int i = 0; i < 2; i++) {
            k->off[k->n++] = k->data.len;
            if (buf_put(&k->data, atts[i], strlen(atts[i]) + 1) < 0)
                return -1;
        }
    }
    return 0;
}

static void attrs_free(Attrs *k)
{
    buf_free(&k->data);
    PyMem_Free(k->off);
    k->off = NULL;
    k->n = k->cap = 0;
}

/* kept attributes to Python's start handler, as expat's NULL-terminated name/value array */
static int start_kept(Scanner *s, const char *name, const Attrs *k)
{
    const XML_Char **a = PyMem_New(const XML_Char *, (size_t)k->n + 2);
    if (a == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < k->n; i++)
        a[i] = k->data.data + k->off[i];
    a[k->n] = a[k->n + 1] = NULL;
    int rc = call_start(s, name, a);
    PyMem_Free((void *)a);
    return rc;
}

static const char *kept_get(const Attrs *k, const char *key)
{
    for (Py_ssize_t i = 0; i < k->n; i += 2)
        if (strcmp(k->data.data + k->off[i], key) == 0)
            return k->data.data + k->off[i + 1];
    return NULL;
}

static const char *held_get(Scanner *s, const char *key) { return kept_get(&s->held, key); }

static const char *kid_name(int kind) { return kind == KID_OUT ? "system-out" : "skipped"; }

/* stop capturing the held child's text in C (Python's own capture, if any, is unaffected) */
static void kid_capture_off(Scanner *s)
{
    s->kid_open = 0;
    if (s->chars_h == NULL)
        capi->SetCharacterDataHandler(s->parser, NULL);
}

/* Show the held <testcase> to Python after all, as pyexpat would have: its start, then its held
 * child's start, text (one piece: it is under the inline size, so under junit.py's capture cap,
 * where pieces only add up) and, when that child has ended, its end. The frames become ordinary. */
static int replay_held(Scanner *s, Frame *f)
{
    f->flags &= ~F_HELD;
    if (start_kept(s, "testcase", &s->held) < 0)
        return -1;
    int kind = s->kid_kind;
    s->kid_kind = 0;
    if (kind == 0)
        return 0;
    int open = s->kid_open;
    if (open) {
        kid_capture_off(s);
        f[1].flags &= ~F_KID; /* the child's frame, right above: Python sees its end */
    }
    if (start_kept(s, kid_name(kind), &s->kid) < 0)
        return -1;
    if (s->kid_text.len && call_chars(s, s->kid_text.data, (Py_ssize_t)s->kid_text.len) < 0)
        return -1;
    return open ? 0 : call_end(s, kid_name(kind), 0);
}

/* A plain decimal: digits with at most one '.', 1..40 characters. float() parses it the same way;
 * anything else (signs, exponents, spaces, "inf", commas, underscores) goes to Python.
 * Sets *out and, when it can, the repr() of the value in repr[] (else repr[0] = 0). */
static int plain_decimal(const char *v, double *out, char repr[48])
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
                                   1e14, 1e15};
    size_t n = strlen(v), digits = 0, dots = 0, dot = n;
    if (n == 0 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] >= '0' && v[i] <= '9')
            digits++;
        else if (v[i] == '.') {
            dots++;
            dot = i;
        }
        else
            return 0;
    }
    if (digits == 0 || dots > 1)
        return 0;
    repr[0] = 0;
    /* Exact fast path: with int part I (leading zeros dropped) and fraction F (trailing zeros
     * dropped) of 15 digits or fewer in all, M = int(I + F) < 10^15 and M / 10^len(F) is one
     * correctly rounded division of exact doubles, i.e. float(v); and repr() of it, the shortest
     * string that reads back the same, is "I.F" (I "0" when empty, F "0" when empty) whenever
     * the value is 0 or the point sits where repr writes no exponent (fewer than 4 zeros after it). */
    size_t i0 = 0, f0 = dot + 1, f1 = n;
    while (i0 < dot && v[i0] == '0')
        i0++;
    if (f0 > n)
        f0 = n;
    while (f1 > f0 && v[f1 - 1] == '0')
        f1--;
    size_t ni = dot - i0, nf = f1 - f0;
    if (ni + nf <= 15) {
        long long m = 0;
        for (size_t i = i0; i < dot; i++)
            m = m * 10 + (v[i] - '0');
        size_t lead = 0; /* zeros right after the point, when the int part is 0 */
        for (size_t i = f0; i < f1; i++) {
            if (m == 0 && v[i] == '0')
                lead++;
            m = m * 10 + (v[i] - '0');
        }
        if (m == 0 || ni > 0 || lead < 4) {
            *out = (double)m / pow10[nf];
            size_t k = 0;
            if (ni == 0)
                repr[k++] = '0';
            memcpy(repr + k, v + i0, ni);
            k += ni;
            repr[k++] = '.';
            if (nf == 0)
                repr[k++] = '0';
            memcpy(repr + k, v + f0, nf);
            k += nf;
            repr[k] = 0;
            return 1;
        }
    }
    char *end = NULL;
    double d = PyOS_string_to_double(v, &end, NULL);
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (end != v + n || !(d >= 0.0) || !isfinite(d))
        return 0;
    *out = d;
    return 1;
}

/* 1..18 ASCII digits of a number up to MAX_LINE (junit.py's line_attr; larger ones are Python's
 * error): int() gives the same number and str() of it has no leading zeros */
#define MAX_LINE 2147483647LL
static int plain_line(const char *v, long long *out)
{
    size_t n = strlen(v);
    if (n == 0 || n > 18)
        return 0;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        x = x * 10 + (v[i] - '0');
    }
    if (x > MAX_LINE)
        return 0;
    *out = x;
    return 1;
}

static PyObject *str_of(const char *v)
{
    return PyUnicode_DecodeUTF8(v, (Py_ssize_t)strlen(v), "strict");
}

/* junit.py's writer bookkeeping for a named test: hash((suite, classname, name, file or None)) */
static int note_identity(Scanner *s, Frame *suite, const char *classname, const char *name,
                         const char *file)
{
    if (suite->suite_s == NULL && (suite->suite_s = str_of(suite->suite)) == NULL)
        return -1;
    PyObject *t = PyTuple_New(4);
    if (t == NULL)
        return -1;
    Py_INCREF(suite->suite_s);
    PyTuple_SET_ITEM(t, 0, suite->suite_s);
    PyObject *c = str_of(classname), *n = c ? str_of(name) : NULL, *f = NULL;
    if (n != NULL) {
        if (file != NULL)
            f = str_of(file);
        else {
            f = Py_None;
            Py_INCREF(f);
        }
    }
    if (f == NULL) {
        Py_XDECREF(c);
        Py_XDECREF(n);
        Py_DECREF(t);
        return -1;
    }
    PyTuple_SET_ITEM(t, 1, c);
    PyTuple_SET_ITEM(t, 2, n);
    PyTuple_SET_ITEM(t, 3, f);
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    if (h == -1 && PyErr_Occurred())
        return -1;
    int seen = hs_add(&s->seen, h);
    if (seen <= 0)
        return seen;
    PyObject *key = PyLong_FromSsize_t(h); /* seen twice here: a repeat (rare) */
    if (key == NULL)
        return -1;
    int rc = PySet_Add(s->dups, key);
    Py_DECREF(key);
    return rc;
}

/* What junit.py writes for a held child: 1 = known, 0 = not plain (Python takes the test case).
 * <system-out>: its text as {"text": ...} when it is not blank (str.isspace()) and fits inline;
 * <skipped message="m">: status "skipped", message m cut at MESSAGE_CHARS (2000) characters. */
static int kid_plain(Scanner *s, const char **skip_msg, size_t *skip_len, int *has_out)
{
    if (s->kid_kind == KID_SKIPPED) {
        const char *m = kept_get(&s->kid, "message");
        if (m == NULL || !*m)
            return 0; /* the message would come from the text's first line */
        size_t chars = 0, i = 0;
        for (; m[i] && chars <= 2000; i++)
            if (((unsigned char)m[i] & 0xC0) != 0x80 && ++chars > 2000)
                break;
        *skip_msg = m;
        *skip_len = i;
        return 1;
    }
    if (s->kid_kind == KID_OUT) {
        const Buf *t = &s->kid_text;
        if ((Py_ssize_t)t->len > s->inline_bytes)
            return 0;
        int graphic = 0;
        for (size_t i = 0; i < t->len; i++) {
            unsigned char c = (unsigned char)t->data[i];
            if (c > 0x20 && c < 0x80)
                graphic = 1;
            else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                return graphic; /* non-ASCII: blank or not is str.isspace()'s call, unless already known */
        }
        *has_out = graphic; /* blank (or empty): no stdout */
        return 1;
    }
    return 1;
}

/* The hot path for a held <testcase> that ended with no child or one plain held child: 1 = written,
 * 0 = not plain (Python takes it), -1 = error. The JSON is junit.py's, byte for byte. */
static int plain_case(Scanner *s, Frame *suite)
{
    /* junit.py's STATUS_ATTRS: any of them and Python decides */
    if (held_get(s, "status") != NULL || held_get(s, "result") != NULL || held_get(s, "outcome") != NULL
        || held_get(s, "executed") != NULL || held_get(s, "success") != NULL)
        return 0;
    const char *skip_msg = NULL;
    size_t skip_len = 0;
    int has_out = 0;
    if (s->kid_kind && !kid_plain(s, &skip_msg, &skip_len, &has_out))
        return 0;
    const char *t = held_get(s, "time"), *l = held_get(s, "line");
    double duration = 0.0;
    long long line = 0;
    char repr[48];
    if (t != NULL && !plain_decimal(t, &duration, repr))
        return 0;
    if (l != NULL && !plain_line(l, &line))
        return 0;
    /* $defs/test for the fields written here (see the module comment) */
    if (t != NULL && !(duration >= 0.0 && isfinite(duration)))
        return 0;
    if (line < 0)
        return 0;
    const char *classname = held_get(s, "classname");
    if (classname == NULL || !*classname)
        classname = held_get(s, "class");
    if (classname == NULL || !*classname)
        classname = "";
    const char *name = held_get(s, "name");
    if (name == NULL)
        name = "";
    const char *file = held_get(s, "file");
    if (file != NULL && !*file)
        file = NULL;

    if (suite->suite_json.len == 0 && buf_put_json(&suite->suite_json, suite->suite, strlen(suite->suite)) < 0)
        return -1;
    Buf *o = &s->out;
    size_t mark = o->len;
    if ((s->out_n && buf_put(o, ",", 1) < 0)
        || buf_put(o, "{\"suite\":", 9) < 0
        || buf_put(o, suite->suite_json.data, suite->suite_json.len) < 0
        || buf_put(o, ",\"classname\":", 13) < 0
        || buf_put_json(o, classname, strlen(classname)) < 0
        || buf_put(o, ",\"name\":", 8) < 0
        || buf_put_json(o, name, strlen(name)) < 0
        || (skip_msg ? buf_put(o, ",\"status\":\"skipped\",\"duration\":", 31)
                     : buf_put(o, ",\"status\":\"passed\",\"duration\":", 30)) < 0)
        return -1;
    if (t == NULL) {
        if (buf_put(o, "null", 4) < 0)
            return -1;
    }
    else if (repr[0]) {
        if (buf_put(o, repr, strlen(repr)) < 0)
            return -1;
    }
    else {
        char *r = PyOS_double_to_string(duration, 'r', 0, Py_DTSF_ADD_DOT_0, NULL); /* repr() */
        if (r == NULL)
            return -1;
        int rc = buf_put(o, r, strlen(r));
        PyMem_Free(r);
        if (rc < 0)
            return -1;
    }
    if (file != NULL && (buf_put(o, ",\"file\":", 8) < 0 || buf_put_json(o, file, strlen(file)) < 0))
        return -1;
    if (l != NULL) {
        char num[32];
        int k = PyOS_snprintf(num, sizeof num, ",\"line\":%lld", line);
        if (k < 0 || (size_t)k >= sizeof num || buf_put(o, num, (size_t)k) < 0)
            return -1;
    }
    if (skip_msg != NULL && (buf_put(o, ",\"message\":", 11) < 0 || buf_put_json(o, skip_msg, skip_len) < 0))
        return -1;
    if (has_out
        && (buf_put(o, ",\"stdout\":{\"text\":", 18) < 0 || buf_put_json(o, s->kid_text.data, s->kid_text.len) < 0
            || buf_put(o, "}", 1) < 0))
        return -1;
    if (buf_put(o, "}\n", 2) < 0)
        return -1;
    if (*name && note_identity(s, suite, classname, name, file) < 0) {
        o->len = mark;
        return -1;
    }
    s->out_n++;
    if (skip_msg != NULL)
        s->out_skipped++;
    s->kid_kind = 0;
    if (t != NULL)
        s->case_time += duration;
    if (o->len >= (1 << 18))
        return flush_out(s) < 0 ? -1 : 1;
    return 1;
}

/* -- expat handlers ------------------------------------------------------------------------------ */

static Frame *push(Scanner *s, int flags)
{
    if (s->depth == s->frames_cap) {
        Py_ssize_t cap = s->frames_cap ? s->frames_cap * 2 : 64;
        Frame *p = PyMem_Resize(s->frames, Frame, (size_t)cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        s->frames = p;
        s->frames_cap = cap;
    }
    Frame *f = &s->frames[s->depth++];
    memset(f, 0, sizeof *f);
    f->flags = flags;
    return f;
}

static void frame_clear(Frame *f)
{
    PyMem_Free(f->suite);
    f->suite = NULL;
    PyMem_Free(f->quiet_name);
    f->quiet_name = NULL;
    Py_CLEAR(f->suite_s);
    buf_free(&f->suite_json);
}

/* junit.py's _suite_name: name, or "[hostname] name" for Playwright */
static int set_suite_name(Scanner *s, Frame *f, const XML_Char **atts)
{
    const char *name = "", *host = NULL;
    for (const XML_Char **a = atts; a[0] != NULL; a += 2) {
        if (strcmp(a[0], "name") == 0)
            name = a[1];
        else if (strcmp(a[0], "hostname") == 0)
            host = a[1];
    }
    Buf b = {0};
    if (s->project_hosts && host != NULL && *host) {
        if (buf_put(&b, "[", 1) < 0 || buf_put(&b, host, strlen(host)) < 0 || buf_put(&b, "] ", 2) < 0) {
            buf_free(&b);
            return -1;
        }
    }
    if (buf_put(&b, name, strlen(name) + 1) < 0) {
        buf_free(&b);
        return -1;
    }
    f->suite = b.data;
    return 0;
}

/* the suite's name given by Python (a str), UTF-8 */
static int set_suite_str(Frame *f, PyObject *str)
{
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(str, &n);
    if (u == NULL)
        return -1;
    if ((f->suite = PyMem_Malloc((size_t)n + 1)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(f->suite, u, (size_t)n + 1);
    return 0;
}

static const char *local_name(const char *name)
{
    const char *sp = strrchr(name, ' ');
    return sp ? sp + 1 : name;
}

/* Would junit.py's start() record this child of a suite or of a _SKIP element as _SKIP, with no
 * other effect? True for every element but the test elements and a suite's captured outputs: its
 * parent is then not a test case (whose child count matters) nor capturing text. */
static int quiet_child(Scanner *s, const Frame *parent, const char *local)
{
    if (s->chars_h != NULL || !(parent->flags & (F_SUITE | F_QUIET)))
        return 0;
    if (strcmp(local, "testcase") == 0 || strcmp(local, "testsuite") == 0)
        return 0;
    return (parent->flags & F_QUIET) || (strcmp(local, "system-out") != 0 && strcmp(local, "system-err") != 0);
}

/* A test element inside a quiet subtree: Python needs its _SKIP on the stack after all. Its outermost
 * quiet element is replayed (start() makes the same _SKIP for it whatever its attributes, and every
 * _SKIP is one object to junit.py) and the subtree is shown to Python from here on. */
static int wake_quiet(Scanner *s)
{
    Py_ssize_t i = s->depth - 1;
    while (i > 0 && (s->frames[i - 1].flags & F_QUIET))
        i--;
    const Frame *top = &s->frames[i];
    static const XML_Char *none[] = {NULL, NULL};
    if (call_start(s, top->quiet_name, none) < 0)
        return -1;
    for (Py_ssize_t j = i; j < s->depth; j++)
        s->frames[j].flags = j > i ? F_UNSEEN : 0; /* the outermost is now an ordinary element */
    return 0;
}

static void on_chars(void *ud, const XML_Char *data, int len);

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    Scanner *s = ud;
    if (s->failed)
        return;
    if (flush_text(s) < 0)
        goto error;
    Frame *parent = s->depth ? &s->frames[s->depth - 1] : NULL;
    if (parent != NULL && (parent->flags & F_HELD)) {
        /* the first child of a held test case: a <system-out> or <skipped> is held too */
        int kind = strcmp(name, "system-out") == 0 ? KID_OUT : strcmp(name, "skipped") == 0 ? KID_SKIPPED : 0;
        if (kind && s->kid_kind == 0 && !(parent->flags & F_HAD_KID) && s->chars_h == NULL) {
            parent->flags |= F_HAD_KID;
            if (push(s, F_KID) == NULL || keep_attrs(&s->kid, atts) < 0)
                goto error;
            s->kid_kind = kind;
            s->kid_open = 1;
            s->kid_text.len = 0;
            capi->SetCharacterDataHandler(s->parser, on_chars);
            return;
        }
        if (replay_held(s, parent) < 0)
            goto error;
    }
    else if (parent != NULL && (parent->flags & F_KID)) { /* the held child has a child: Python's */
        if (replay_held(s, parent - 1) < 0)
            goto error;
    }
    const char *local = local_name(name);
    if (parent != NULL && quiet_child(s, parent, local)) {
        int outermost = !(parent->flags & F_QUIET);
        Frame *f = push(s, F_QUIET); /* may move the stack: parent is not used after this */
        if (f == NULL)
            goto error;
        if (outermost) {
            size_t n = strlen(name) + 1;
            if ((f->quiet_name = PyMem_Malloc(n)) == NULL) {
                PyErr_NoMemory();
                goto error;
            }
            memcpy(f->quiet_name, name, n);
        }
        return;
    }
    if (parent != NULL && (parent->flags & F_QUIET) && wake_quiet(s) < 0)
        goto error;
    if (strcmp(name, "testcase") == 0 && parent != NULL && (parent->flags & F_SUITE) && s->chars_h == NULL) {
        if (push(s, F_CASE | F_HELD) == NULL || keep_attrs(&s->held, atts) < 0)
            goto error;
        return;
    }
    int flags = strcmp(local, "testcase") == 0 ? F_CASE : 0;
    if (strcmp(name, "testsuite") == 0)
        flags |= F_SUITE;
    Frame *f = push(s, flags);
    if (f == NULL)
        goto error;
    if (!(flags & F_SUITE)) {
        if (call_start(s, name, atts) < 0)
            goto error;
        return;
    }
    /* a suite: junit.py's start() answers with its full name (the enclosing suites' names and its
     * own); without a Python handler, its own name */
    PyObject *full = NULL;
    if (call_start_r(s, name, atts, &full) < 0)
        goto error;
    int rc = full != NULL && PyUnicode_Check(full) ? set_suite_str(f, full) : set_suite_name(s, f, atts);
    Py_XDECREF(full);
    if (rc < 0)
        goto error;
    return;
error:
    fail(s);
}

static void on_end(void *ud, const XML_Char *name)
{
    Scanner *s = ud;
    if (s->failed)
        return;
    if (flush_text(s) < 0 || s->depth == 0)
        goto error;
    Frame *f = &s->frames[s->depth - 1];
    int flags = f->flags;
    if ((flags & F_QUIET) || (flags & F_UNSEEN)) { /* Python never saw its start */
        frame_clear(f);
        s->depth--;
        return;
    }
    if (flags & F_KID) { /* the held child ended: the test case decides at its end */
        kid_capture_off(s);
        frame_clear(f);
        s->depth--;
        return;
    }
    if (flags & F_HELD) {
        int done = plain_case(s, &s->frames[s->depth - 2]);
        if (done < 0 || (done == 0 && replay_held(s, f) < 0))
            goto error;
        if (done) {
            frame_clear(f);
            s->depth--;
            return;
        }
    }
    frame_clear(f);
    s->depth--;
    if (call_end(s, name, flags) < 0)
        goto error;
    return;
error:
    fail(s);
}

/* pyexpat's my_CharacterDataHandler with buffer_text on */
static void on_chars(void *ud, const XML_Char *data, int len)
{
    Scanner *s = ud;
    if (s->failed || len <= 0)
        return;
    if (s->kid_open) { /* the held child's text, up to the inline size; beyond it Python takes over */
        if ((Py_ssize_t)s->kid_text.len + len <= s->inline_bytes) {
            if (buf_put(&s->kid_text, data, (size_t)len) < 0)
                goto error;
            return;
        }
        if (replay_held(s, &s->frames[s->depth - 2]) < 0)
            goto error;
    }
    if (s->chars_h == NULL)
        return;
    if (s->text_used + len > s->text_size) {
        if (flush_text(s) < 0)
            goto error;
        if (s->chars_h == NULL)
            return;
    }
    if (len > s->text_size) {
        if (call_chars(s, data, len) < 0)
            goto error;
        s->text_used = 0;
    }
    else {
        memcpy(s->text + s->text_used, data, (size_t)len);
        s->text_used += len;
    }
    return;
error:
    fail(s);
}

static void on_doctype(void *ud, const XML_Char *doctype, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal_subset)
{
    Scanner *s = ud;
    if (s->failed)
        return;
    if (flush_text(s) < 0)
        goto error;
    if (s->doctype_h != NULL) {
        PyObject *r = PyObject_CallFunction(s->doctype_h, "zzzi", doctype, sysid, pubid, has_internal_subset);
        if (r == NULL)
            goto error;
        Py_DECREF(r);
    }
    return;
error:
    fail(s);
}

/* -- the Python type ----------------------------------------------------------------------------- */

static int Scanner_init(Scanner *s, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"run", "ids", "dups", "project_hosts", "text_buffer", "inline_bytes", NULL};
    PyObject *run, *ids, *dups;
    int project_hosts = 0;
    Py_ssize_t text_buffer = 1 << 16, inline_bytes = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO!O!|pnn", kwlist, &run, &PySet_Type, &ids, &PySet_Type,
                                     &dups, &project_hosts, &text_buffer, &inline_bytes))
        return -1;
    if (inline_bytes < 0 || inline_bytes > (1 << 30)) {
        PyErr_SetString(PyExc_ValueError, "inline_bytes out of range");
        return -1;
    }
    s->inline_bytes = inline_bytes;
    if (s->parser != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner already initialised");
        return -1;
    }
    if (text_buffer <= 0 || text_buffer > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "text_buffer must be a positive int");
        return -1;
    }
    PyMem_Free(s->text);
    s->text = PyMem_Malloc((size_t)text_buffer);
    if (s->text == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->text_size = text_buffer;
    s->parser = capi->ParserCreate_MM(NULL, NULL, " ");
    if (s->parser == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (capi->SetHashSalt != NULL)
        capi->SetHashSalt(s->parser, (unsigned long)_Py_HashSecret.expat.hashsalt);
    capi->SetUserData(s->parser, s);
    capi->SetElementHandler(s->parser, on_start, on_end);
    capi->SetStartDoctypeDeclHandler(s->parser, on_doctype);
    capi->SetUnknownEncodingHandler(s->parser, (XML_UnknownEncodingHandler)capi->DefaultUnknownEncodingHandler,
                                    NULL);
    Py_INCREF(run);
    s->run = run;
    Py_INCREF(ids);
    s->ids = ids;
    Py_INCREF(dups);
    s->dups = dups;
    s->project_hosts = project_hosts;
    return 0;
}

static int Scanner_traverse(Scanner *s, visitproc visit, void *arg)
{
    Py_VISIT(s->start_h);
    Py_VISIT(s->end_h);
    Py_VISIT(s->chars_h);
    Py_VISIT(s->doctype_h);
    Py_VISIT(s->run);
    Py_VISIT(s->ids);
    Py_VISIT(s->dups);
    return 0;
}

static int Scanner_clear(Scanner *s)
{
    Py_CLEAR(s->start_h);
    Py_CLEAR(s->end_h);
    Py_CLEAR(s->chars_h);
    Py_CLEAR(s->doctype_h);
    Py_CLEAR(s->run);
    Py_CLEAR(s->ids);
    Py_CLEAR(s->dups);
    return 0;
}

static void Scanner_dealloc(Scanner *s)
{
    PyObject_GC_UnTrack(s);
    Scanner_clear(s);
    if (s->parser != NULL)
        capi->ParserFree(s->parser);
    for (Py_ssize_t i = 0; i < s->depth; i++)
        frame_clear(&s->frames[i]);
    PyMem_Free(s->frames);
    PyMem_Free(s->text);
    attrs_free(&s->held);
    attrs_free(&s->kid);
    buf_free(&s->kid_text);
    buf_free(&s->out);
    PyMem_Free(s->seen.slots);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static int ready(Scanner *s)
{
    if (s->parser == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner not initialised");
        return 0;
    }
    return 1;
}

/* pyexpat's set_error: ExpatError("<message>: line L, column C") with code, offset, lineno */
static int set_int_attr(PyObject *err, const char *name, long long value)
{
    PyObject *v = PyLong_FromLongLong(value);
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttrString(err, name, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *expat_error(Scanner *s)
{
    enum XML_Error code = capi->GetErrorCode(s->parser);
    long long line = (long long)capi->GetErrorLineNumber(s->parser);
    long long column = (long long)capi->GetErrorColumnNumber(s->parser);
    PyObject *msg = PyUnicode_FromFormat("%.200s: line %lld, column %lld", capi->ErrorString(code), line, column);
    if (msg == NULL)
        return NULL;
    PyObject *err = PyObject_CallOneArg(ExpatError, msg);
    Py_DECREF(msg);
    if (err == NULL)
        return NULL;
    if (set_int_attr(err, "code", code) == 0 && set_int_attr(err, "offset", column) == 0
        && set_int_attr(err, "lineno", line) == 0)
        PyErr_SetObject(ExpatError, err);
    Py_DECREF(err);
    return NULL;
}

static PyObject *Scanner_Parse(Scanner *s, PyObject *args)
{
    Py_buffer data;
    int isfinal = 0;
    if (!ready(s) || !PyArg_ParseTuple(args, "y*|i:Parse", &data, &isfinal))
        return NULL;
    if (s->in_parse) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, "Parse called from a handler");
        return NULL;
    }
    if (s->failed) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, "parsing failed earlier");
        return NULL;
    }
    enum XML_Status rv = XML_STATUS_OK;
    const char *p = data.buf;
    Py_ssize_t left = data.len;
    s->in_parse = 1;
    do { /* expat takes an int length */
        int n = left > (1 << 30) ? (1 << 30) : (int)left;
        left -= n;
        rv = capi->Parse(s->parser, p, n, isfinal && left == 0);
        p += n;
    } while (rv == XML_STATUS_OK && !s->failed && left > 0);
    s->in_parse = 0;
    PyBuffer_Release(&data);
    if (s->failed) { /* a handler's error, kept as raised (pyexpat stops at it) */
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "handler failed");
        return NULL;
    }
    if (PyErr_Occurred()) { /* e.g. LookupError from the unknown-encoding handler, as pyexpat */
        fail(s);
        return NULL;
    }
    if (rv != XML_STATUS_OK) {
        fail(s);
        return expat_error(s);
    }
    if (flush_text(s) < 0) {
        fail(s);
        return NULL;
    }
    return PyLong_FromLong(1);
}

static PyObject *Scanner_finish(Scanner *s, PyObject *Py_UNUSED(ignored))
{
    if (!ready(s))
        return NULL;
    if (s->failed) {
        PyErr_SetString(PyExc_RuntimeError, "parsing failed earlier");
        return NULL;
    }
    if (flush_out(s) < 0 || set_case_time(s) < 0) {
        fail(s);
        return NULL;
    }
    /* the Python path's own last batch, so that every identity it wrote is in the set */
    PyObject *r = PyObject_CallMethod(s->run, "flush", NULL);
    if (r == NULL) {
        fail(s);
        return NULL;
    }
    Py_DECREF(r);
    /* identities seen both here and by the Python path (in either order) are repeats too */
    PyObject *it = PyObject_GetIter(s->ids), *key;
    if (it == NULL)
        return NULL;
    while ((key = PyIter_Next(it)) != NULL) {
        Py_hash_t h = PyLong_AsSsize_t(key);
        int rc = (h == -1 && PyErr_Occurred()) ? -1 : hs_has(&s->seen, h) ? PySet_Add(s->dups, key) : 0;
        Py_DECREF(key);
        if (rc < 0) {
            Py_DECREF(it);
            return NULL;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Scanner_methods[] = {
    {"Parse", (PyCFunction)Scanner_Parse, METH_VARARGS,
     "Parse(data, isfinal=False): feed bytes to expat, like pyexpat's Parse."},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS,
     "After the final Parse: hand over the last encoded test items (run.add_encoded, run.flush), set "
     "run.case_time, and add to the repeat set the identities both paths wrote."},
    {NULL, NULL, 0, NULL},
};

/* handler attributes: a callable or None */
static PyObject **handler_slot(Scanner *s, void *which)
{
    switch ((intptr_t)which) {
    case 0: return &s->start_h;
    case 1: return &s->end_h;
    case 2: return &s->chars_h;
    default: return &s->doctype_h;
    }
}

static PyObject *get_handler(Scanner *s, void *which)
{
    PyObject *h = *handler_slot(s, which);
    if (h == NULL)
        Py_RETURN_NONE;
    Py_INCREF(h);
    return h;
}

static int set_handler(Scanner *s, PyObject *v, void *which)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a handler");
        return -1;
    }
    if (v != Py_None && !PyCallable_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable or None");
        return -1;
    }
    if (!ready(s))
        return -1;
    /* like pyexpat: changing the character data handler first flushes what is buffered */
    if ((intptr_t)which == 2 && flush_text(s) < 0)
        return -1;
    PyObject **slot = handler_slot(s, which);
    PyObject *old = *slot;
    if (v == Py_None)
        *slot = NULL;
    else {
        Py_INCREF(v);
        *slot = v;
    }
    Py_XDECREF(old);
    if ((intptr_t)which == 2)
        capi->SetCharacterDataHandler(s->parser, *slot ? on_chars : NULL);
    return 0;
}

static PyObject *get_line(Scanner *s, void *Py_UNUSED(closure))
{
    if (!ready(s))
        return NULL;
    return PyLong_FromSize_t((size_t)capi->GetErrorLineNumber(s->parser));
}

static PyGetSetDef Scanner_getset[] = {
    {"StartElementHandler", (getter)get_handler, (setter)set_handler, NULL, (void *)0},
    {"EndElementHandler", (getter)get_handler, (setter)set_handler, NULL, (void *)1},
    {"CharacterDataHandler", (getter)get_handler, (setter)set_handler, NULL, (void *)2},
    {"StartDoctypeDeclHandler", (getter)get_handler, (setter)set_handler, NULL, (void *)3},
    {"CurrentLineNumber", (getter)get_line, NULL, "the line expat is at", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "aqe_ci.ingest.tests._junit_c.Scanner",
    .tp_doc = PyDoc_STR("Scanner(run, ids, dups, project_hosts=False, text_buffer=65536): a pyexpat-like "
                        "namespace-aware parser that writes plain passing <testcase> items itself."),
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_traverse = (traverseproc)Scanner_traverse,
    .tp_clear = (inquiry)Scanner_clear,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

/* -- encode_json: the writer's JSON encoder in C -------------------------------------------------- */

/* json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False, allow_nan=False)
 * for what documents hold: dict (str keys), list, tuple, str (and subclasses), exact int and float,
 * True, False, None. 1 = written, 0 = something else (the caller uses the json module), -1 = error. */
static int put_value(Buf *b, PyObject *o, int depth)
{
    if (depth > 64)
        return 0;
    if (o == Py_None)
        return buf_put(b, "null", 4) < 0 ? -1 : 1;
    if (o == Py_True)
        return buf_put(b, "true", 4) < 0 ? -1 : 1;
    if (o == Py_False)
        return buf_put(b, "false", 5) < 0 ? -1 : 1;
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *u;
        if (PyUnicode_IS_ASCII(o)) {
            u = (const char *)PyUnicode_1BYTE_DATA(o);
            n = PyUnicode_GET_LENGTH(o);
        }
        else if ((u = PyUnicode_AsUTF8AndSize(o, &n)) == NULL) { /* lone surrogates: json's verdict */
            PyErr_Clear();
            return 0;
        }
        return buf_put_json(b, u, (size_t)n) < 0 ? -1 : 1;
    }
    if (PyFloat_CheckExact(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        if (!isfinite(d))
            return 0;
        char *r = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (r == NULL)
            return -1;
        int rc = buf_put(b, r, strlen(r));
        PyMem_Free(r);
        return rc < 0 ? -1 : 1;
    }
    if (PyLong_CheckExact(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (overflow) {
            PyObject *t = PyObject_Str(o);
            if (t == NULL)
                return -1;
            Py_ssize_t n;
            const char *u = PyUnicode_AsUTF8AndSize(t, &n);
            int rc = u == NULL ? -1 : buf_put(b, u, (size_t)n);
            Py_DECREF(t);
            return rc < 0 ? -1 : 1;
        }
        char num[32];
        int k = PyOS_snprintf(num, sizeof num, "%lld", v);
        return (k < 0 || (size_t)k >= sizeof num || buf_put(b, num, (size_t)k) < 0) ? -1 : 1;
    }
    if (PyDict_CheckExact(o)) {
        if (buf_put(b, "{", 1) < 0)
            return -1;
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        int first = 1;
        while (PyDict_Next(o, &pos, &k, &v)) {
            if (!PyUnicode_Check(k))
                return 0;
            if (!first && buf_put(b, ",", 1) < 0)
                return -1;
            first = 0;
            Py_INCREF(k);
            Py_INCREF(v);
            int rc = put_value(b, k, depth + 1);
            if (rc == 1)
                rc = buf_put(b, ":", 1) < 0 ? -1 : put_value(b, v, depth + 1);
            Py_DECREF(k);
            Py_DECREF(v);
            if (rc != 1)
                return rc;
        }
        return buf_put(b, "}", 1) < 0 ? -1 : 1;
    }
    if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
        if (buf_put(b, "[", 1) < 0)
            return -1;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(o); i++) {
            if (i && buf_put(b, ",", 1) < 0)
                return -1;
            PyObject *v = PySequence_Fast_GET_ITEM(o, i);
            Py_INCREF(v);
            int rc = put_value(b, v, depth + 1);
            Py_DECREF(v);
            if (rc != 1)
                return rc;
        }
        return buf_put(b, "]", 1) < 0 ? -1 : 1;
    }
    return 0;
}

static PyObject *encode_json(PyObject *Py_UNUSED(module), PyObject *o)
{
    Buf b = {0};
    int rc = put_value(&b, o, 0);
    PyObject *r = NULL;
    if (rc == 1)
        r = PyUnicode_DecodeUTF8(b.data, (Py_ssize_t)b.len, "strict");
    else if (rc == 0) {
        r = Py_None;
        Py_INCREF(r);
    }
    buf_free(&b);
    return r;
}

static PyMethodDef module_methods[] = {
    {"encode_json", encode_json, METH_O,
     "encode_json(obj) -> str | None: the compact JSON the test_results writer writes (json.JSONEncoder "
     "with ensure_ascii=False, separators=(',', ':'), allow_nan=False), or None when obj holds "
     "anything but dict/list/tuple/str/int/float/bool/None (use the json module then)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "aqe_ci.ingest.tests._junit_c",
    .m_doc = "JUnit ingest accelerator: an expat driver that encodes plain passing test cases in C. "
             "The pure-Python path (aqe_ci.ingest.tests.junit on pyexpat) is the reference.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__junit_c(void)
{
    capi = PyCapsule_Import(PyExpat_CAPSULE_NAME, 0);
    if (capi == NULL)
        return NULL;
    if (strcmp(capi->magic, PyExpat_CAPI_MAGIC) != 0 || (size_t)capi->size < sizeof(struct PyExpat_CAPI)
        || capi->MAJOR_VERSION != XML_MAJOR_VERSION || capi->MINOR_VERSION != XML_MINOR_VERSION) {
        PyErr_SetString(PyExc_ImportError, "pyexpat C API does not match the expat headers this was built with");
        return NULL;
    }
    PyObject *pyexpat = PyImport_ImportModule("pyexpat");
    if (pyexpat == NULL)
        return NULL;
    ExpatError = PyObject_GetAttrString(pyexpat, "ExpatError");
    Py_DECREF(pyexpat);
    if (ExpatError == NULL)
        return NULL;
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

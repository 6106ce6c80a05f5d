/*
 * aqe_ci.ingest.coverage._cobertura_c: the per-<line> loop of the fast Cobertura reader in C.
 *
 * What it accelerates: FastCobertura._class_end in aqe_ci/ingest/coverage/cobertura_fast.py reads
 * the content of a class's <lines> element (a byte span of the report) into the coverage writer's
 * compact strings.  lines_span() does that in one pass over the bytes and returns
 *
 *     (line_hits, lines_valid, lines_covered, branches)
 *
 * where line_hits is exactly aqe_ci.model.linehits.encode_line_runs(lines, hits) and
 * branches is None (no branch data) or (branches_valid, branches_covered, branch_hits) with
 * branch_hits exactly encode_branch_hits(sorted(class_branches(...).items())).
 *
 * The pure-Python reader is the reference.  This function only answers for spans it can vouch
 * for and returns None for anything else (the Python path then reads the span, and declines to
 * the lxml reader where it must), so a result from here always equals the Python result:
 *   - content: XML whitespace and <line .../> or <line ...>...</line> elements only; inside a
 *     <line>, any elements except <line>, <class>, <coverage>, <package> (Java's <conditions>),
 *     text ignored;
 *   - number: ASCII digits, <= 2^31-1; hits: ASCII digits, <= 2^64-1; both present once;
 *   - line numbers strictly ascending (no merge of repeated lines needed);
 *   - condition-coverage: ASCII without '&', tab, CR or LF; at most one '('; "(c/v)" with
 *     spaces allowed around the numbers, c <= v, sums without overflow;
 *   - no comment, CDATA, processing instruction (the Python caller cuts them out first).
 * The input is assumed to be checked for well-formedness separately (libxml2 pass); for
 * malformed input the result may be anything (it is discarded), but every read stays within
 * the span: all scanning is bounds-checked against `end`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_LINE 2147483647ULL

/* ---------------------------------------------------------------- growable output buffer */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} Buf;

/* make room for `extra` more bytes; 0 on success, -1 (MemoryError set) on failure */
static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) {
        if (cap > ((size_t)PY_SSIZE_T_MAX) / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *p = PyMem_Realloc(b->data, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

/* append the decimal digits of v (no leading zeros) */
static int buf_u64(Buf *b, uint64_t v) {
    char tmp[24];
    int i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t n = sizeof(tmp) - (size_t)i;
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, tmp + i, n);
    b->len += n;
    return 0;
}

static int buf_char(Buf *b, char c) {
    if (buf_reserve(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

/* ---------------------------------------------------------------- tokenizing helpers */

static inline int is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline const char *skip_ws(const char *p, const char *end) {
    while (p < end && is_ws((unsigned char)*p))
        p++;
    return p;
}

/* end of an element or attribute name: stops at whitespace, '=', '/', '>', '<' or a quote */
static inline const char *name_end(const char *p, const char *end) {
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (is_ws(c) || c == '=' || c == '/' || c == '>' || c == '<' || c == '"' || c == '\'')
            break;
        p++;
    }
    return p;
}

/* ASCII digits [p, q) as an unsigned value <= limit; -1 for empty, non-digit or too large */
static int parse_uint(const char *p, const char *q, uint64_t limit, uint64_t *out) {
    if (p == q)
        return -1;
    uint64_t v = 0;
    for (; p < q; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < '0' || c > '9')
            return -1;
        unsigned d = c - '0';
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The attributes of the <line> tag being read (pointers into the span; NULL when absent). */
typedef struct {
    const char *number, *number_end;
    const char *hits, *hits_end;
    const char *cc, *cc_end;
} LineAttrs;

enum { TAG_DECLINE = -1, TAG_EMPTY = 0, TAG_OPEN = 1 };

/*
 * Read the attributes of a tag from *pp (just after its name) to its '>' and advance *pp past
 * it.  Returns TAG_EMPTY for "/>", TAG_OPEN for ">", TAG_DECLINE for anything unexpected.  When
 * `la` is not NULL, number/hits/condition-coverage are recorded there (a repeat declines).
 */
static int scan_attrs(const char **pp, const char *end, LineAttrs *la) {
    const char *p = *pp;
    for (;;) {
        const char *q = skip_ws(p, end);
        int had_ws = q > p;
        p = q;
        if (p >= end)
            return TAG_DECLINE;
        if (*p == '/') {
            if (p + 1 < end && p[1] == '>') {
                *pp = p + 2;
                return TAG_EMPTY;
            }
            return TAG_DECLINE;
        }
        if (*p == '>') {
            *pp = p + 1;
            return TAG_OPEN;
        }
        if (!had_ws)
            return TAG_DECLINE;
        const char *name = p;
        p = name_end(p, end);
        size_t name_len = (size_t)(p - name);
        if (name_len == 0)
            return TAG_DECLINE;
        p = skip_ws(p, end);
        if (p >= end || *p != '=')
            return TAG_DECLINE;
        p = skip_ws(p + 1, end);
        if (p >= end || (*p != '"' && *p != '\''))
            return TAG_DECLINE;
        char quote = *p++;
        const char *value = p;
        const char *close = memchr(p, quote, (size_t)(end - p));
        if (close == NULL)
            return TAG_DECLINE;
        p = close + 1;
        if (la == NULL)
            continue;
        const char **slot = NULL, **slot_end = NULL;
        if (name_len == 6 && memcmp(name, "number", 6) == 0) {
            slot = &la->number;
            slot_end = &la->number_end;
        } else if (name_len == 4 && memcmp(name, "hits", 4) == 0) {
            slot = &la->hits;
            slot_end = &la->hits_end;
        } else if (name_len == 18 && memcmp(name, "condition-coverage", 18) == 0) {
            slot = &la->cc;
            slot_end = &la->cc_end;
        }
        if (slot != NULL) {
            if (*slot != NULL)
                return TAG_DECLINE; /* repeated attribute: not well-formed anyway */
            *slot = value;
            *slot_end = close;
        }
    }
}

/* Element names that decline inside a <line>: another <line> (not a lines/line element) and
 * the elements the lxml reader acts on (its iterparse tag filter: class, coverage, package). */
static int is_reserved(const char *name, size_t len) {
    return (len == 4 && memcmp(name, "line", 4) == 0) || (len == 5 && memcmp(name, "class", 5) == 0)
        || (len == 8 && memcmp(name, "coverage", 8) == 0) || (len == 7 && memcmp(name, "package", 7) == 0);
}

/*
 * Skip the content of an open <line> up to and including its </line>.  Nested elements other
 * than the reserved ones are allowed (Java's <conditions><condition .../></conditions>); text
 * is ignored.
 * Returns 0 with *pp advanced, -1 to decline.
 */
static int skip_line_content(const char **pp, const char *end) {
    const char *p = *pp;
    Py_ssize_t depth = 0;
    for (;;) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (lt == NULL || lt + 1 >= end)
            return -1;
        p = lt + 1;
        if (*p == '!' || *p == '?')
            return -1; /* comment / CDATA / PI: the Python path handles these */
        if (*p == '/') {
            const char *name = p + 1;
            const char *ne = name_end(name, end);
            p = skip_ws(ne, end);
            if (p >= end || *p != '>')
                return -1;
            p++;
            if (depth == 0) {
                if (ne - name != 4 || memcmp(name, "line", 4) != 0)
                    return -1;
                *pp = p;
                return 0;
            }
            depth--;
            continue;
        }
        const char *name = p;
        p = name_end(p, end);
        if (p == name || is_reserved(name, (size_t)(p - name)))
            return -1;
        int kind = scan_attrs(&p, end, NULL);
        if (kind == TAG_DECLINE)
            return -1;
        if (kind == TAG_OPEN)
            depth++;
    }
}

/*
 * A condition-coverage value [p, q) (raw attribute bytes).  Returns 1 with *c and *v set when it
 * holds "(c/v)", 0 when it has no '(' (no usable branch figure: the line is skipped), -1 to
 * decline (characters that need XML normalisation or decoding, non-ASCII, several '(', numbers
 * too large).  One '(' not followed by the pattern is "no figure" (0), as in the Python path.
 */
static int parse_condition(const char *p, const char *q, uint64_t *c, uint64_t *v) {
    const char *open = NULL;
    for (const char *s = p; s < q; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&' || ch == '\t' || ch == '\r' || ch == '\n' || ch >= 0x80)
            return -1;
        if (ch == '(') {
            if (open != NULL)
                return -1;
            open = s;
        }
    }
    if (open == NULL)
        return 0;
    const char *s = open + 1;
    while (s < q && *s == ' ')
        s++;
    const char *d = s;
    while (s < q && *s >= '0' && *s <= '9')
        s++;
    if (s == d)
        return 0;
    if (parse_uint(d, s, UINT64_MAX / 4, c) < 0)
        return -1;
    while (s < q && *s == ' ')
        s++;
    if (s >= q || *s != '/')
        return 0;
    s++;
    while (s < q && *s == ' ')
        s++;
    d = s;
    while (s < q && *s >= '0' && *s <= '9')
        s++;
    if (s == d)
        return 0;
    if (parse_uint(d, s, UINT64_MAX / 4, v) < 0)
        return -1;
    while (s < q && *s == ' ')
        s++;
    if (s >= q || *s != ')')
        return 0;
    return 1;
}

/* ---------------------------------------------------------------- lines_span */

typedef struct {
    Buf hits;     /* line_hits text */
    Buf branches; /* branch_hits text */
} Out;

static int emit_run(Buf *b, uint64_t start, uint64_t last, uint64_t hits) {
    if (b->len && buf_char(b, ',') < 0)
        return -1;
    if (buf_u64(b, start) < 0)
        return -1;
    if (last != start && (buf_char(b, '-') < 0 || buf_u64(b, last) < 0))
        return -1;
    if (buf_char(b, ':') < 0 || buf_u64(b, hits) < 0)
        return -1;
    return 0;
}

/* 1: read, results in the out-params; 0: decline; -1: Python error set */
static int read_span(const char *p, const char *end, int branch_mode, Out *out, uint64_t *n_out,
                     uint64_t *covered_out, int *has_branches, uint64_t *bv_out, uint64_t *bc_out) {
    uint64_t n = 0, covered = 0, bv = 0, bc = 0;
    uint64_t run_start = 0, run_last = 0, run_hits = 0;
    int has_cc = 0;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end)
            break;
        if (end - p < 6 || memcmp(p, "<line", 5) != 0)
            return 0;
        p += 5;
        if (!(is_ws((unsigned char)*p) || *p == '/' || *p == '>'))
            return 0;
        LineAttrs la = {0};
        int kind = scan_attrs(&p, end, &la);
        if (kind == TAG_DECLINE)
            return 0;
        if (kind == TAG_OPEN && skip_line_content(&p, end) < 0)
            return 0;
        uint64_t line, hits;
        if (la.number == NULL || la.hits == NULL)
            return 0;
        if (parse_uint(la.number, la.number_end, MAX_LINE, &line) < 0)
            return 0;
        if (parse_uint(la.hits, la.hits_end, UINT64_MAX, &hits) < 0)
            return 0;
        if (n == 0) {
            run_start = run_last = line;
            run_hits = hits;
        } else if (line <= run_last) {
            return 0; /* not strictly ascending: the Python path merges */
        } else if (line == run_last + 1 && hits == run_hits) {
            run_last = line;
        } else {
            if (emit_run(&out->hits, run_start, run_last, run_hits) < 0)
                return -1;
            run_start = run_last = line;
            run_hits = hits;
        }
        n++;
        covered += hits != 0;
        if (la.cc != NULL) {
            uint64_t c = 0, v = 0;
            has_cc = 1;
            int r = parse_condition(la.cc, la.cc_end, &c, &v);
            if (r < 0)
                return 0;
            if (r == 1) {
                if (c > v)
                    return 0; /* the Python path reports it */
                if (__builtin_add_overflow(bv, v, &bv) || __builtin_add_overflow(bc, c, &bc))
                    return 0;
                Buf *b = &out->branches;
                if ((b->len && buf_char(b, ',') < 0) || buf_u64(b, line) < 0 || buf_char(b, ':') < 0
                    || buf_u64(b, c) < 0 || buf_char(b, '/') < 0 || buf_u64(b, v) < 0)
                    return -1;
            }
        }
    }
    if (n && emit_run(&out->hits, run_start, run_last, run_hits) < 0)
        return -1;
    *n_out = n;
    *covered_out = covered;
    *has_branches = branch_mode || has_cc;
    *bv_out = bv;
    *bc_out = bc;
    return 1;
}

PyDoc_STRVAR(lines_span_doc,
"lines_span(buf, start, end, branch_mode, /)\n--\n\n"
"The content of one <lines> element, buf[start:end], as\n"
"(line_hits, lines_valid, lines_covered, branches) where branches is None or\n"
"(branches_valid, branches_covered, branch_hits); None when the span is not in a shape this\n"
"function vouches for (the Python reader then reads it).");

static PyObject *lines_span(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t start, stop;
    int branch_mode;
    if (!PyArg_ParseTuple(args, "y*nnp:lines_span", &view, &start, &stop, &branch_mode))
        return NULL;
    if (start < 0 || stop < start || stop > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "lines_span: span out of range");
        return NULL;
    }
    const char *base = (const char *)view.buf;
    Out out = {{NULL, 0, 0}, {NULL, 0, 0}};
    uint64_t n = 0, covered = 0, bv = 0, bc = 0;
    int has_branches = 0;
    int r = read_span(base + start, base + stop, branch_mode, &out, &n, &covered, &has_branches, &bv, &bc);
    PyBuffer_Release(&view);
    PyObject *result = NULL;
    if (r == 0) {
        result = Py_NewRef(Py_None);
    } else if (r > 0) {
        PyObject *branches = NULL;
        if (has_branches)
            branches = Py_BuildValue("(KKs#)", (unsigned long long)bv, (unsigned long long)bc,
                                     out.branches.data ? out.branches.data : "", (Py_ssize_t)out.branches.len);
        else
            branches = Py_NewRef(Py_None);
        if (branches != NULL) {
            result = Py_BuildValue("(s#KKN)", out.hits.data ? out.hits.data : "", (Py_ssize_t)out.hits.len,
                                   (unsigned long long)n, (unsigned long long)covered, branches);
        }
    }
    PyMem_Free(out.hits.data);
    PyMem_Free(out.branches.data);
    return result;
}

static PyMethodDef methods[] = {
    {"lines_span", lines_span, METH_VARARGS, lines_span_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "aqe_ci.ingest.coverage._cobertura_c",
    "The per-<line> loop of the fast Cobertura reader in C (see the source's header comment).\n\n"
    "The pure-Python reader (aqe_ci.ingest.coverage.cobertura_fast) is the reference: this module\n"
    "returns results only where they equal the Python path's, and None otherwise.",
    -1,
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cobertura_c(void) {
    return PyModule_Create(&module);
}

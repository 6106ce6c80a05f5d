/*
 * aqe_ci.ingest.security._sarif_c -- C twin of aqe_ci.ingest.security.sarif._fast_extract.
 *
 * scan_result(buf, pos) looks at the JSON text of ONE element of a SARIF run's "results" array,
 * starting at buf[pos], without building Python objects for the parts SARIF ingest drops
 * (codeFlows, relatedLocations, snippets, ...). When the element is a complete, valid JSON object
 * of the fast-path shape, it returns ((rule_id, rule_index, tags, level, text, uri, line_hash,
 * start_line, end_line, start_column, end_column), end): exactly the tuple the Python twin
 * _fast_extract() makes from json's decoding of the same text, and the index after the element.
 * For anything else -- another shape, invalid or unusual JSON (NaN, escapes in keys, duplicate
 * keys we read, very long numbers, deep nesting), or an element not complete in buf -- it returns
 * None and the caller decodes the element with the json module as before (the reference path,
 * which also produces every error message). So this module never decides an error; it only
 * declines.
 *
 * The Python code is the reference: tests/ingest/test_security_sarif_accel.py compares both paths
 * on the corpus and on generated/mutated results.
 *
 * Grammar accepted (a subset of what json.JSONDecoder(strict=True) accepts): whitespace is
 * " \t\n\r"; strings have no raw control character (< 0x20) and only the escapes \" \\ \/ \b \f
 * \n \r \t \uXXXX; numbers are -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? of at most
 * MAX_NUMBER characters; literals true/false/null; nesting at most MAX_DEPTH. Strings we return
 * are slices of buf when they hold no escape, else decoded by json's own scanstring.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define NO 0   /* not handled here: the caller decodes the element with json */
#define OK 1   /* done */
#define KEY 2  /* next_key: a key was read; next_elem: an element follows */
#define ERR -1 /* a Python exception is set (out of memory) */

#define MAX_DEPTH 64
#define MAX_NUMBER 100   /* json refuses ints of more than 4300 digits: leave long numbers to it */
#define MAX_INT_DIGITS 18
#define MAX_LINE 2147483647LL /* aqe_ci.ingest.base.MAX_LINE */

static PyObject *scanstring; /* _json.scanstring(s, end, strict) -> (str, end) */

typedef struct {
    PyObject *buf;
    const void *data;
    int kind;
    Py_ssize_t len;
    Py_ssize_t pos;
} Scan;

/* The character at i (callers check i < len). */
static inline Py_UCS4 at(const Scan *s, Py_ssize_t i) { return PyUnicode_READ(s->kind, s->data, i); }

/* The current character, or 0 at the end of buf (0 is never valid where it is tested). */
static inline Py_UCS4 cur(const Scan *s) { return s->pos < s->len ? at(s, s->pos) : 0; }

static inline int is_digit(Py_UCS4 c) { return c >= '0' && c <= '9'; }

static inline int is_hex(Py_UCS4 c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline void ws(Scan *s)
{
    if (s->kind == PyUnicode_1BYTE_KIND) { /* the common case, without the per-character switch */
        const Py_UCS1 *d = (const Py_UCS1 *)s->data;
        Py_ssize_t i = s->pos;
        while (i < s->len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
            i++;
        s->pos = i;
        return;
    }
    while (s->pos < s->len) {
        Py_UCS4 c = at(s, s->pos);
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return;
        s->pos++;
    }
}

/* A string at s->pos (its opening quote): its content is [*start, *end), *esc tells whether it
 * holds a backslash; s->pos moves past the closing quote. */
static int scan_string(Scan *s, Py_ssize_t *start, Py_ssize_t *end, int *esc)
{
    Py_ssize_t i = s->pos + 1;
    int e = 0;
    for (;;) {
        if (s->kind == PyUnicode_1BYTE_KIND) { /* skip plain characters without the switch */
            const Py_UCS1 *d = (const Py_UCS1 *)s->data;
            while (i < s->len && d[i] >= 0x20 && d[i] != '"' && d[i] != '\\')
                i++;
        }
        if (i >= s->len)
            return NO;
        Py_UCS4 c = at(s, i);
        if (c == '"')
            break;
        if (c < 0x20)
            return NO;
        if (c == '\\') {
            e = 1;
            if (i + 1 >= s->len)
                return NO;
            Py_UCS4 n = at(s, i + 1);
            if (n == 'u') {
                if (i + 5 >= s->len)
                    return NO;
                for (int k = 2; k < 6; k++)
                    if (!is_hex(at(s, i + k)))
                        return NO;
                i += 6;
                continue;
            }
            if (n != '"' && n != '\\' && n != '/' && n != 'b' && n != 'f' && n != 'n' && n != 'r'
                && n != 't')
                return NO;
            i += 2;
            continue;
        }
        i++;
    }
    *start = s->pos + 1;
    *end = i;
    *esc = e;
    s->pos = i + 1;
    return OK;
}

/* A number at s->pos, with json's grammar (_json.c _match_number_unicode). *value is set for an
 * integer (no fraction, no exponent) and *is_int tells which; when want_value, integers of more
 * than MAX_INT_DIGITS digits are declined. */
static int scan_number(Scan *s, int want_value, int *is_int, long long *value)
{
    Py_ssize_t i = s->pos;
    int neg = 0, isint = 1, digits = 0;
    long long v = 0;
    if (i < s->len && at(s, i) == '-') {
        neg = 1;
        i++;
    }
    if (i >= s->len)
        return NO;
    Py_UCS4 c = at(s, i);
    if (c == '0') {
        i++;
        digits = 1;
    } else if (c >= '1' && c <= '9') {
        while (i < s->len && is_digit(at(s, i))) {
            if (digits < MAX_INT_DIGITS)
                v = v * 10 + (long long)(at(s, i) - '0');
            digits++;
            i++;
        }
    } else {
        return NO;
    }
    if (i + 1 < s->len && at(s, i) == '.' && is_digit(at(s, i + 1))) {
        isint = 0;
        i += 2;
        while (i < s->len && is_digit(at(s, i)))
            i++;
    }
    if (i < s->len && (at(s, i) == 'e' || at(s, i) == 'E')) {
        Py_ssize_t j = i + 1;
        if (j < s->len && (at(s, j) == '-' || at(s, j) == '+'))
            j++;
        if (j < s->len && is_digit(at(s, j))) {
            isint = 0;
            while (j < s->len && is_digit(at(s, j)))
                j++;
            i = j;
        }
    }
    if (i - s->pos > MAX_NUMBER || (want_value && isint && digits > MAX_INT_DIGITS && !neg))
        return NO;
    if (isint && digits > MAX_INT_DIGITS)
        v = 1; /* only its sign matters: a negative value reads as None */
    *is_int = isint;
    *value = neg ? -v : v;
    s->pos = i;
    return OK;
}

static int literal(Scan *s, const char *word)
{
    Py_ssize_t n = (Py_ssize_t)strlen(word);
    if (s->pos + n > s->len)
        return NO;
    for (Py_ssize_t k = 0; k < n; k++)
        if (at(s, s->pos + k) != (Py_UCS4)(unsigned char)word[k])
            return NO;
    s->pos += n;
    return OK;
}

static int skip_value(Scan *s, int depth);

/* Object iteration. Start with *first = 1 and s->pos at '{'. Returns KEY (the key's content is
 * [*ks, *ks + *kl), *esc when it holds an escape; s->pos is at the value, which the caller must
 * consume), OK (the object ended, s->pos after '}') or NO. */
static int next_key(Scan *s, int *first, Py_ssize_t *ks, Py_ssize_t *kl, int *esc)
{
    if (*first) {
        *first = 0;
        s->pos++;
        ws(s);
        if (cur(s) == '}') {
            s->pos++;
            return OK;
        }
    } else {
        ws(s);
        Py_UCS4 c = cur(s);
        if (c == '}') {
            s->pos++;
            return OK;
        }
        if (c != ',')
            return NO;
        s->pos++;
        ws(s);
    }
    if (cur(s) != '"')
        return NO;
    Py_ssize_t end;
    if (scan_string(s, ks, &end, esc) != OK)
        return NO;
    *kl = end - *ks;
    ws(s);
    if (cur(s) != ':')
        return NO;
    s->pos++;
    ws(s);
    return KEY;
}

/* Array iteration, like next_key: KEY when an element is at s->pos, OK at the end. */
static int next_elem(Scan *s, int *first)
{
    if (*first) {
        *first = 0;
        s->pos++;
        ws(s);
        if (cur(s) == ']') {
            s->pos++;
            return OK;
        }
        return KEY;
    }
    ws(s);
    Py_UCS4 c = cur(s);
    if (c == ']') {
        s->pos++;
        return OK;
    }
    if (c != ',')
        return NO;
    s->pos++;
    ws(s);
    return KEY;
}

static int skip_value(Scan *s, int depth)
{
    Py_ssize_t a, b;
    int esc, isint, first = 1, r;
    long long v;
    Py_UCS4 c = cur(s);
    if (depth > MAX_DEPTH)
        return NO;
    switch (c) {
    case '{':
        while ((r = next_key(s, &first, &a, &b, &esc)) == KEY)
            if (skip_value(s, depth + 1) != OK)
                return NO;
        return r;
    case '[':
        while ((r = next_elem(s, &first)) == KEY)
            if (skip_value(s, depth + 1) != OK)
                return NO;
        return r;
    case '"':
        return scan_string(s, &a, &b, &esc);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        if (c == '-' || is_digit(c))
            return scan_number(s, 0, &isint, &v);
        return NO;
    }
}

static int key_is(const Scan *s, Py_ssize_t ks, Py_ssize_t kl, const char *name)
{
    if ((Py_ssize_t)strlen(name) != kl)
        return 0;
    for (Py_ssize_t k = 0; k < kl; k++)
        if (at(s, ks + k) != (Py_UCS4)(unsigned char)name[k])
            return 0;
    return 1;
}

/* The value at s->pos: a new str in *out when it is a JSON string, else skipped (*out unset). */
static int str_value(Scan *s, PyObject **out, int depth)
{
    Py_ssize_t a, b;
    int esc;
    if (cur(s) != '"')
        return skip_value(s, depth);
    if (scan_string(s, &a, &b, &esc) != OK)
        return NO;
    if (!esc) {
        *out = PyUnicode_Substring(s->buf, a, b);
        return *out ? OK : ERR;
    }
    PyObject *res = PyObject_CallFunction(scanstring, "OnO", s->buf, a, Py_True);
    if (res == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError))
            return ERR;
        PyErr_Clear(); /* not expected after the checks above: let json report it */
        return NO;
    }
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(res, 0))) {
        Py_DECREF(res);
        return NO;
    }
    *out = PyTuple_GET_ITEM(res, 0);
    Py_INCREF(*out);
    Py_DECREF(res);
    return OK;
}

/* The value at s->pos: *out is its value when it is a JSON integer >= 0, else -1 (None). */
static int int_value(Scan *s, long long *out, int depth)
{
    Py_UCS4 c = cur(s);
    int isint;
    long long v;
    *out = -1;
    if (c != '-' && !is_digit(c))
        return skip_value(s, depth);
    if (scan_number(s, 1, &isint, &v) != OK)
        return NO;
    if (isint && v >= 0)
        *out = v;
    return OK;
}

/* What the fast path keeps of a result (strings: new references or NULL; ints: -1 is None). */
typedef struct {
    PyObject *rule_id, *level, *text, *uri, *line_hash, *tags;
    long long rule_index, ref_index, start_line, end_line, start_col, end_col;
} Fields;

/* Marks a key of one object as read; a second occurrence (json keeps the last) is declined. */
#define ONCE(bit)              \
    do {                       \
        if (seen & (bit))      \
            return NO;         \
        seen |= (bit);         \
    } while (0)

static int region_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "startLine")) {
            ONCE(1);
            r = int_value(s, &f->start_line, depth);
        } else if (key_is(s, ks, kl, "endLine")) {
            ONCE(2);
            r = int_value(s, &f->end_line, depth);
        } else if (key_is(s, ks, kl, "startColumn")) {
            ONCE(4);
            r = int_value(s, &f->start_col, depth);
        } else if (key_is(s, ks, kl, "endColumn")) {
            ONCE(8);
            r = int_value(s, &f->end_col, depth);
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    /* a line or column over MAX_LINE: the general path refuses the report, with its message */
    if (r == OK && (f->start_line > MAX_LINE || f->end_line > MAX_LINE || f->start_col > MAX_LINE
                    || f->end_col > MAX_LINE))
        return NO;
    return r;
}

/* The uri tests of the fast path (sarif._fast_extract): no '%', no "://" in its first 16
 * characters, not absolute, no file: scheme (ASCII case-insensitive: no other character lowers
 * to one of "file:"). */
static int plain_uri(PyObject *uri)
{
    int kind = PyUnicode_KIND(uri);
    const void *d = PyUnicode_DATA(uri);
    Py_ssize_t n = PyUnicode_GET_LENGTH(uri);
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ(kind, d, i) == '%')
            return 0;
    for (Py_ssize_t i = 0; i + 2 < n && i + 2 < 16; i++)
        if (PyUnicode_READ(kind, d, i) == ':' && PyUnicode_READ(kind, d, i + 1) == '/'
            && PyUnicode_READ(kind, d, i + 2) == '/')
            return 0;
    if (n > 0 && PyUnicode_READ(kind, d, 0) == '/')
        return 0;
    if (n >= 5) {
        static const char file[] = "file:";
        int same = 1;
        for (int i = 0; i < 5 && same; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, d, i);
            if (c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
            same = c == (Py_UCS4)file[i];
        }
        if (same)
            return 0;
    }
    return 1;
}

static int artifact_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "uri")) {
            ONCE(1);
            r = str_value(s, &f->uri, depth);
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    if (r == OK && (f->uri == NULL || !plain_uri(f->uri)))
        return NO;
    return r;
}

static int physical_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "artifactLocation")) {
            ONCE(1);
            if (cur(s) != '{')
                return NO;
            r = artifact_obj(s, f, depth + 1);
        } else if (key_is(s, ks, kl, "region")) {
            ONCE(2);
            if (cur(s) != '{')
                return NO;
            r = region_obj(s, f, depth + 1);
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    return (r == OK && seen == 3) ? OK : (r == ERR ? ERR : NO);
}

static int locations_arr(Scan *s, Fields *f, int depth)
{
    int first = 1, r, index = 0;
    while ((r = next_elem(s, &first)) == KEY) {
        if (index++ > 0) {
            r = skip_value(s, depth);
        } else {
            /* locations[0] must be an object whose physicalLocation is an object */
            Py_ssize_t ks, kl;
            int esc, ofirst = 1;
            unsigned seen = 0;
            if (cur(s) != '{')
                return NO;
            while ((r = next_key(s, &ofirst, &ks, &kl, &esc)) == KEY) {
                if (esc)
                    return NO;
                if (key_is(s, ks, kl, "physicalLocation")) {
                    ONCE(1);
                    if (cur(s) != '{')
                        return NO;
                    r = physical_obj(s, f, depth + 2);
                } else {
                    r = skip_value(s, depth + 1);
                }
                if (r != OK)
                    return r;
            }
            if (r == OK && !seen)
                return NO;
        }
        if (r != OK)
            return r;
    }
    return (r == OK && index > 0) ? OK : (r == ERR ? ERR : NO);
}

static int message_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "text")) {
            ONCE(1);
            r = str_value(s, &f->text, depth);
        } else if (key_is(s, ks, kl, "arguments")) {
            return NO;
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    return (r == OK && f->text == NULL) ? NO : r;
}

static int fingerprints_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "primaryLocationLineHash")) {
            ONCE(1);
            r = str_value(s, &f->line_hash, depth);
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    if (r == OK && (f->line_hash == NULL || PyUnicode_GET_LENGTH(f->line_hash) == 0))
        return NO;
    return r;
}

/* properties.tags: the strings, in order (other scalars are dropped, as _fast_static does; an
 * object or array makes the tags unhashable, which the fast path declines). */
static int tags_arr(Scan *s, Fields *f, int depth)
{
    int first = 1, r;
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return ERR;
    while ((r = next_elem(s, &first)) == KEY) {
        Py_UCS4 c = cur(s);
        if (c == '{' || c == '[') {
            r = NO;
            break;
        }
        if (c == '"') {
            PyObject *tag = NULL;
            r = str_value(s, &tag, depth);
            if (r == OK) {
                int failed = PyList_Append(list, tag);
                Py_DECREF(tag);
                if (failed) {
                    r = ERR;
                    break;
                }
            }
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            break;
    }
    if (r == OK) {
        f->tags = PyList_AsTuple(list);
        if (f->tags == NULL)
            r = ERR;
    }
    Py_DECREF(list);
    return r;
}

static int properties_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "security-severity")) {
            return NO;
        } else if (key_is(s, ks, kl, "tags")) {
            ONCE(1);
            r = cur(s) == '[' ? tags_arr(s, f, depth + 1) : skip_value(s, depth);
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    return r;
}

static int rule_obj(Scan *s, Fields *f, int depth)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r;
    unsigned seen = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        if (key_is(s, ks, kl, "toolComponent")) {
            return NO;
        } else if (key_is(s, ks, kl, "index")) {
            ONCE(1);
            r = int_value(s, &f->ref_index, depth);
        } else {
            r = skip_value(s, depth);
        }
        if (r != OK)
            return r;
    }
    return r;
}

/* The result keys the fast path accepts (sarif._FAST_KEYS); the first eight are read. */
static const char *const FAST_KEYS[] = {
    "ruleId", "ruleIndex", "rule", "level", "message", "locations", "partialFingerprints",
    "properties",
    "fingerprints", "relatedLocations", "codeFlows", "guid", "correlationGuid", "occurrenceCount",
    "rank", "hostedViewerUri", "provenance", "fixes", "stacks", "graphs", "graphTraversals",
    "attachments", "workItemUris", "webRequest", "webResponse", "taxa", "analysisTarget",
};
#define N_FAST_KEYS ((int)(sizeof(FAST_KEYS) / sizeof(FAST_KEYS[0])))

static int result_obj(Scan *s, Fields *f)
{
    Py_ssize_t ks, kl;
    int esc, first = 1, r, k;
    unsigned seen = 0;
    int rule_is_obj = 0;
    while ((r = next_key(s, &first, &ks, &kl, &esc)) == KEY) {
        if (esc)
            return NO;
        for (k = 0; k < N_FAST_KEYS && !key_is(s, ks, kl, FAST_KEYS[k]); k++)
            ;
        if (k == N_FAST_KEYS)
            return NO; /* kind, baselineState, suppressions, ...: the general path */
        if (k < 8)
            ONCE(1u << k);
        switch (k) {
        case 0:
            r = str_value(s, &f->rule_id, 1);
            break;
        case 1:
            r = int_value(s, &f->rule_index, 1);
            break;
        case 2:
            rule_is_obj = cur(s) == '{';
            r = rule_is_obj ? rule_obj(s, f, 2) : skip_value(s, 1);
            break;
        case 3:
            r = str_value(s, &f->level, 1);
            break;
        case 4:
            r = cur(s) == '{' ? message_obj(s, f, 2) : NO;
            break;
        case 5:
            r = cur(s) == '[' ? locations_arr(s, f, 2) : NO;
            break;
        case 6:
            r = cur(s) == '{' ? fingerprints_obj(s, f, 2) : NO;
            break;
        case 7:
            r = cur(s) == '{' ? properties_obj(s, f, 2) : skip_value(s, 1);
            break;
        default:
            r = skip_value(s, 1);
        }
        if (r != OK)
            return r;
    }
    if (r != OK)
        return r;
    /* required: ruleId (a string), message, locations, partialFingerprints */
    if (f->rule_id == NULL || !(seen & (1u << 4)) || !(seen & (1u << 5)) || !(seen & (1u << 6)))
        return NO;
    if (f->rule_index < 0 && rule_is_obj)
        f->rule_index = f->ref_index;
    return OK;
}

static PyObject *int_or_none(long long v)
{
    if (v < 0)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(v);
}

static PyObject *or_none(PyObject *o)
{
    if (o == NULL)
        Py_RETURN_NONE;
    Py_INCREF(o);
    return o;
}

static PyObject *scan_result(PyObject *module, PyObject *args)
{
    PyObject *buf, *out = NULL;
    Py_ssize_t pos;
    (void)module;
    if (!PyArg_ParseTuple(args, "Un:scan_result", &buf, &pos))
        return NULL;
    Scan s = {buf, PyUnicode_DATA(buf), PyUnicode_KIND(buf), PyUnicode_GET_LENGTH(buf), pos};
    if (pos < 0 || pos >= s.len || at(&s, pos) != '{')
        Py_RETURN_NONE;
    Fields f = {NULL, NULL, NULL, NULL, NULL, NULL, -1, -1, -1, -1, -1, -1};
    int r = result_obj(&s, &f);
    if (r == OK) {
        PyObject *items[11] = {
            or_none(f.rule_id), int_or_none(f.rule_index), f.tags ? or_none(f.tags) : PyTuple_New(0),
            or_none(f.level), or_none(f.text), or_none(f.uri), or_none(f.line_hash),
            int_or_none(f.start_line), int_or_none(f.end_line), int_or_none(f.start_col),
            int_or_none(f.end_col),
        };
        PyObject *fields = PyTuple_New(11);
        int missing = fields == NULL;
        for (int k = 0; k < 11; k++) {
            missing |= items[k] == NULL;
            if (fields != NULL)
                PyTuple_SET_ITEM(fields, k, items[k]); /* steals; NULL slots are fine for DECREF */
            else
                Py_XDECREF(items[k]);
        }
        if (missing)
            Py_XDECREF(fields);
        else
            out = Py_BuildValue("(Nn)", fields, s.pos);
    } else if (r == NO) {
        out = Py_None;
        Py_INCREF(out);
    }
    Py_XDECREF(f.rule_id);
    Py_XDECREF(f.level);
    Py_XDECREF(f.text);
    Py_XDECREF(f.uri);
    Py_XDECREF(f.line_hash);
    Py_XDECREF(f.tags);
    return out;
}

static PyMethodDef methods[] = {
    {"scan_result", scan_result, METH_VARARGS,
     "scan_result(buf, pos) -> ((rule_id, rule_index, tags, level, text, uri, line_hash,\n"
     "start_line, end_line, start_column, end_column), end) for a fast-path SARIF result at\n"
     "buf[pos], or None (the caller then decodes it with json)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_sarif_c",
    "C twin of aqe_ci.ingest.security.sarif._fast_extract (the Python code is the reference):\n"
    "extracts what SARIF ingest keeps of a common-shape result straight from the JSON text.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__sarif_c(void)
{
    PyObject *json = PyImport_ImportModule("_json");
    if (json == NULL)
        return NULL;
    scanstring = PyObject_GetAttrString(json, "scanstring");
    Py_DECREF(json);
    if (scanstring == NULL)
        return NULL;
    return PyModule_Create(&module_def);
}

#include "pattern.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Limits that keep a hostile or mistaken pattern from eating memory: nothing in a service
 * model comes close. */
#define MAX_REPEAT 1000
#define MAX_PROGRAM 20000
#define MAX_NESTING 64

int32_t pattern_utf8_next(const char *s, size_t len, size_t *pos)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = *pos;
    if (i >= len)
        return -1;
    unsigned c = p[i];
    uint32_t cp;
    size_t need;
    if (c < 0x80) {
        *pos = i + 1;
        return (int32_t)c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        cp = c & 0x1F;
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        cp = c & 0x0F;
        need = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
        cp = c & 0x07;
        need = 3;
    } else {
        return -1;
    }
    if (len - i - 1 < need)
        return -1;
    for (size_t k = 1; k <= need; k++) {
        unsigned cc = p[i + k];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogates and values beyond Unicode are not text. */
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *pos = i + 1 + need;
    return (int32_t)cp;
}

static int in_ranges(const struct pattern_range *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

int pattern_unicode_is(char category, uint32_t cp)
{
    switch (category) {
    case 'L': return in_ranges(pattern_unicode_L, pattern_unicode_L_count, cp);
    case 'N': return in_ranges(pattern_unicode_N, pattern_unicode_N_count, cp);
    case 'Z': return in_ranges(pattern_unicode_Z, pattern_unicode_Z_count, cp);
    default: return 0;
    }
}

/* ---- Parsing into a tree ---------------------------------------------------------------- */

enum node_type { N_EMPTY, N_CHAR, N_ANY, N_CLASS, N_BOL, N_EOL, N_CAT, N_ALT, N_REPEAT };

struct node {
    enum node_type type;
    int a, b;     /* children (CAT, ALT: a and b; REPEAT: a) */
    int min, max; /* REPEAT; max -1 = unbounded */
    uint32_t cp;  /* CHAR */
    int cls;      /* CLASS: index into classes */
};

/* One member of a character class: a code point range, or a Unicode category. */
struct class_item {
    uint32_t lo, hi;
    char category; /* 0 for a range; 'L', 'N', 'Z' for \p{..} */
    unsigned char negated_category;
};

struct char_class {
    int first, count; /* items */
    unsigned char negated;
    uint64_t ascii[2]; /* the answer for code points below 128, filled once compiled */
};

struct parser {
    const char *p;
    const char *end;
    struct node *nodes;
    int node_count, node_cap;
    struct class_item *items;
    int item_count, item_cap;
    struct char_class *classes;
    int class_count, class_cap;
    int depth;
    const char *error;
};

static int fail(struct parser *ps, const char *why)
{
    if (!ps->error)
        ps->error = why;
    return -1;
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(*arr, (size_t)ncap * elem);
    if (!n)
        return -1;
    *arr = n;
    *cap = ncap;
    return 0;
}

static int new_node(struct parser *ps, enum node_type type)
{
    if (grow((void **)&ps->nodes, &ps->node_cap, ps->node_count + 1, sizeof *ps->nodes))
        return fail(ps, "out of memory");
    struct node *n = &ps->nodes[ps->node_count];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->a = n->b = -1;
    return ps->node_count++;
}

static int add_item(struct parser *ps, uint32_t lo, uint32_t hi, char category, int negated)
{
    if (grow((void **)&ps->items, &ps->item_cap, ps->item_count + 1, sizeof *ps->items))
        return fail(ps, "out of memory");
    struct class_item *it = &ps->items[ps->item_count++];
    it->lo = lo;
    it->hi = hi;
    it->category = category;
    it->negated_category = (unsigned char)negated;
    return 0;
}

/* Starts a new class whose items are the ones added from now on. */
static int begin_class(struct parser *ps, int negated)
{
    if (grow((void **)&ps->classes, &ps->class_cap, ps->class_count + 1, sizeof *ps->classes))
        return fail(ps, "out of memory");
    struct char_class *c = &ps->classes[ps->class_count];
    c->first = ps->item_count;
    c->count = 0;
    c->negated = (unsigned char)negated;
    c->ascii[0] = c->ascii[1] = 0;
    return ps->class_count++;
}

static void end_class(struct parser *ps, int cls)
{
    ps->classes[cls].count = ps->item_count - ps->classes[cls].first;
}

static int32_t next_cp(struct parser *ps)
{
    size_t pos = 0;
    int32_t cp = pattern_utf8_next(ps->p, (size_t)(ps->end - ps->p), &pos);
    if (cp < 0) {
        fail(ps, "pattern is not valid UTF-8");
        return -1;
    }
    ps->p += pos;
    return cp;
}

/* \p{L} / \P{L} after the 'p' or 'P': returns the category letter or 0 on error. */
static char parse_category(struct parser *ps)
{
    if (ps->end - ps->p < 3 || ps->p[0] != '{' || ps->p[2] != '}') {
        fail(ps, "unsupported \\p{...} form");
        return 0;
    }
    char cat = ps->p[1];
    if (cat != 'L' && cat != 'N' && cat != 'Z') {
        fail(ps, "unsupported Unicode category (only L, N, Z)");
        return 0;
    }
    ps->p += 3;
    return cat;
}

/* A single-code-point escape (after the backslash): returns the code point, or -1 when the
 * escape is not a single character (the caller handles classes). */
static int32_t simple_escape(struct parser *ps, char e)
{
    switch (e) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'u': {
        if (ps->end - ps->p < 4)
            break;
        int32_t v = 0;
        for (int i = 0; i < 4; i++) {
            int h = ivs_hex_value(ps->p[i]);
            if (h < 0)
                return fail(ps, "bad \\u escape");
            v = v * 16 + h;
        }
        ps->p += 4;
        return v;
    }
    default:
        /* Escaped punctuation stands for itself ("\-", "\.", "\/", "\\"). */
        if ((unsigned char)e < 0x80 &&
            !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')))
            return (unsigned char)e;
    }
    return fail(ps, "unsupported escape");
}

/* Adds the items of a class escape (\d \w \s) to the current class. */
static int add_class_escape(struct parser *ps, char e)
{
    switch (e) {
    case 'd': return add_item(ps, '0', '9', 0, 0);
    case 'w':
        if (add_item(ps, 'a', 'z', 0, 0) || add_item(ps, 'A', 'Z', 0, 0) ||
            add_item(ps, '0', '9', 0, 0))
            return -1;
        return add_item(ps, '_', '_', 0, 0);
    case 's':
        if (add_item(ps, ' ', ' ', 0, 0))
            return -1;
        return add_item(ps, '\t', '\r', 0, 0); /* \t \n \v \f \r */
    default: return fail(ps, "unsupported class escape");
    }
}

/* Inside [...]: one endpoint. Returns the code point, -2 when the element was a category or
 * class escape already added to the class, -1 on error. */
static int32_t class_element(struct parser *ps)
{
    if (*ps->p != '\\')
        return next_cp(ps);
    ps->p++;
    if (ps->p >= ps->end)
        return fail(ps, "pattern ends in an escape");
    char e = *ps->p++;
    if (e == 'p' || e == 'P') {
        char cat = parse_category(ps);
        if (!cat || add_item(ps, 0, 0, cat, e == 'P'))
            return -1;
        return -2;
    }
    if (e == 'd' || e == 'w' || e == 's')
        return add_class_escape(ps, e) ? -1 : -2;
    return simple_escape(ps, e);
}

static int parse_bracket(struct parser *ps)
{
    /* ps->p is just past '['. */
    int negated = 0;
    if (ps->p < ps->end && *ps->p == '^') {
        negated = 1;
        ps->p++;
    }
    int cls = begin_class(ps, negated);
    if (cls < 0)
        return -1;
    int first = 1;
    for (;;) {
        if (ps->p >= ps->end)
            return fail(ps, "unterminated character class");
        if (*ps->p == ']' && !first) {
            ps->p++;
            break;
        }
        first = 0;
        int32_t lo = class_element(ps);
        if (lo == -1)
            return -1;
        if (lo == -2)
            continue;
        /* A '-' between two single characters makes a range; anywhere else it is literal. */
        if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']') {
            ps->p++;
            int32_t hi = class_element(ps);
            if (hi == -1)
                return -1;
            if (hi == -2)
                return fail(ps, "a range cannot end in a class escape");
            if (hi < lo)
                return fail(ps, "inverted range in character class");
            if (add_item(ps, (uint32_t)lo, (uint32_t)hi, 0, 0))
                return -1;
        } else if (add_item(ps, (uint32_t)lo, (uint32_t)lo, 0, 0)) {
            return -1;
        }
    }
    end_class(ps, cls);
    int n = new_node(ps, N_CLASS);
    if (n >= 0)
        ps->nodes[n].cls = cls;
    return n;
}

static int parse_alternation(struct parser *ps);

static int class_node(struct parser *ps, int cls)
{
    end_class(ps, cls);
    int n = new_node(ps, N_CLASS);
    if (n >= 0)
        ps->nodes[n].cls = cls;
    return n;
}

static int parse_atom(struct parser *ps)
{
    char c = *ps->p;
    if (c == '(') {
        ps->p++;
        /* Non-capturing groups are the same thing to a yes/no matcher. */
        if (ps->end - ps->p >= 2 && ps->p[0] == '?' && ps->p[1] == ':')
            ps->p += 2;
        if (++ps->depth > MAX_NESTING)
            return fail(ps, "groups nested too deeply");
        int inner = parse_alternation(ps);
        ps->depth--;
        if (inner < 0)
            return -1;
        if (ps->p >= ps->end || *ps->p != ')')
            return fail(ps, "unbalanced parenthesis");
        ps->p++;
        return inner;
    }
    if (c == '[') {
        ps->p++;
        return parse_bracket(ps);
    }
    if (c == '.') {
        ps->p++;
        return new_node(ps, N_ANY);
    }
    if (c == '^') {
        ps->p++;
        return new_node(ps, N_BOL);
    }
    if (c == '$') {
        ps->p++;
        return new_node(ps, N_EOL);
    }
    if (c == '*' || c == '+' || c == '?')
        return fail(ps, "quantifier without an operand");
    if (c == '\\') {
        ps->p++;
        if (ps->p >= ps->end)
            return fail(ps, "pattern ends in an escape");
        char e = *ps->p++;
        if (e == 'p' || e == 'P') {
            char cat = parse_category(ps);
            if (!cat)
                return -1;
            int cls = begin_class(ps, 0);
            if (cls < 0 || add_item(ps, 0, 0, cat, e == 'P'))
                return -1;
            return class_node(ps, cls);
        }
        if (e == 'd' || e == 'w' || e == 's' || e == 'D' || e == 'W' || e == 'S') {
            int upper = e >= 'A' && e <= 'Z';
            int cls = begin_class(ps, upper);
            if (cls < 0 || add_class_escape(ps, (char)(upper ? e - 'A' + 'a' : e)))
                return -1;
            return class_node(ps, cls);
        }
        int32_t cp = simple_escape(ps, e);
        if (cp < 0)
            return -1;
        int n = new_node(ps, N_CHAR);
        if (n >= 0)
            ps->nodes[n].cp = (uint32_t)cp;
        return n;
    }
    int32_t cp = next_cp(ps);
    if (cp < 0)
        return -1;
    int n = new_node(ps, N_CHAR);
    if (n >= 0)
        ps->nodes[n].cp = (uint32_t)cp;
    return n;
}

/* Parses "{n}", "{n,}" or "{n,m}" at ps->p; returns 1 when it was one, 0 when the brace is
 * just a character, -1 on error. */
static int parse_braces(struct parser *ps, int *min, int *max)
{
    const char *q = ps->p + 1;
    long lo = 0, hi;
    if (q >= ps->end || *q < '0' || *q > '9')
        return 0;
    while (q < ps->end && *q >= '0' && *q <= '9') {
        lo = lo * 10 + (*q++ - '0');
        if (lo > MAX_REPEAT)
            return fail(ps, "repetition count too large");
    }
    hi = lo;
    if (q < ps->end && *q == ',') {
        q++;
        if (q < ps->end && *q >= '0' && *q <= '9') {
            hi = 0;
            while (q < ps->end && *q >= '0' && *q <= '9') {
                hi = hi * 10 + (*q++ - '0');
                if (hi > MAX_REPEAT)
                    return fail(ps, "repetition count too large");
            }
        } else {
            hi = -1;
        }
    }
    if (q >= ps->end || *q != '}')
        return 0;
    if (hi >= 0 && hi < lo)
        return fail(ps, "repetition {n,m} with m < n");
    ps->p = q + 1;
    *min = (int)lo;
    *max = (int)hi;
    return 1;
}

static int parse_repeat(struct parser *ps)
{
    int atom = parse_atom(ps);
    if (atom < 0)
        return -1;
    for (;;) {
        int min, max;
        if (ps->p >= ps->end)
            break;
        char c = *ps->p;
        if (c == '*') {
            min = 0, max = -1;
            ps->p++;
        } else if (c == '+') {
            min = 1, max = -1;
            ps->p++;
        } else if (c == '?') {
            min = 0, max = 1;
            ps->p++;
        } else if (c == '{') {
            int r = parse_braces(ps, &min, &max);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
        } else {
            break;
        }
        /* A lazy or possessive suffix changes which match is found, never whether one is. */
        if (ps->p < ps->end && (*ps->p == '?' || *ps->p == '+'))
            ps->p++;
        int n = new_node(ps, N_REPEAT);
        if (n < 0)
            return -1;
        ps->nodes[n].a = atom;
        ps->nodes[n].min = min;
        ps->nodes[n].max = max;
        atom = n;
    }
    return atom;
}

static int parse_concat(struct parser *ps)
{
    int left = -1;
    while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
        int right = parse_repeat(ps);
        if (right < 0)
            return -1;
        if (left < 0) {
            left = right;
        } else {
            int n = new_node(ps, N_CAT);
            if (n < 0)
                return -1;
            ps->nodes[n].a = left;
            ps->nodes[n].b = right;
            left = n;
        }
    }
    return left >= 0 ? left : new_node(ps, N_EMPTY);
}

static int parse_alternation(struct parser *ps)
{
    int left = parse_concat(ps);
    while (left >= 0 && ps->p < ps->end && *ps->p == '|') {
        ps->p++;
        int right = parse_concat(ps);
        if (right < 0)
            return -1;
        int n = new_node(ps, N_ALT);
        if (n < 0)
            return -1;
        ps->nodes[n].a = left;
        ps->nodes[n].b = right;
        left = n;
    }
    return left;
}

/* ---- Compiling the tree to NFA instructions --------------------------------------------- */

enum op { OP_CHAR, OP_ANY, OP_CLASS, OP_BOL, OP_EOL, OP_SPLIT, OP_JMP, OP_MATCH };

struct instr {
    enum op op;
    int x, y;    /* SPLIT: both targets; JMP: x */
    uint32_t cp; /* CHAR */
    int cls;     /* CLASS */
};

struct program {
    struct instr *code;
    int len, cap;
    const char *error;
};

static int emit(struct program *pg, enum op op)
{
    if (pg->len >= MAX_PROGRAM) {
        if (!pg->error)
            pg->error = "pattern too large";
        return -1;
    }
    if (grow((void **)&pg->code, &pg->cap, pg->len + 1, sizeof *pg->code)) {
        if (!pg->error)
            pg->error = "out of memory";
        return -1;
    }
    struct instr *in = &pg->code[pg->len];
    memset(in, 0, sizeof *in);
    in->op = op;
    return pg->len++;
}

static int compile_node(struct program *pg, const struct node *nodes, int idx)
{
    const struct node *n = &nodes[idx];
    int pc;
    switch (n->type) {
    case N_EMPTY: return 0;
    case N_CHAR:
        if ((pc = emit(pg, OP_CHAR)) < 0)
            return -1;
        pg->code[pc].cp = n->cp;
        return 0;
    case N_ANY: return emit(pg, OP_ANY) < 0 ? -1 : 0;
    case N_CLASS:
        if ((pc = emit(pg, OP_CLASS)) < 0)
            return -1;
        pg->code[pc].cls = n->cls;
        return 0;
    case N_BOL: return emit(pg, OP_BOL) < 0 ? -1 : 0;
    case N_EOL: return emit(pg, OP_EOL) < 0 ? -1 : 0;
    case N_CAT:
        if (compile_node(pg, nodes, n->a))
            return -1;
        return compile_node(pg, nodes, n->b);
    case N_ALT: {
        int split = emit(pg, OP_SPLIT);
        if (split < 0)
            return -1;
        pg->code[split].x = pg->len;
        if (compile_node(pg, nodes, n->a))
            return -1;
        int jmp = emit(pg, OP_JMP);
        if (jmp < 0)
            return -1;
        pg->code[split].y = pg->len;
        if (compile_node(pg, nodes, n->b))
            return -1;
        pg->code[jmp].x = pg->len;
        return 0;
    }
    case N_REPEAT: {
        for (int i = 0; i < n->min; i++)
            if (compile_node(pg, nodes, n->a))
                return -1;
        if (n->max < 0) {
            int split = emit(pg, OP_SPLIT);
            if (split < 0)
                return -1;
            pg->code[split].x = pg->len;
            if (compile_node(pg, nodes, n->a))
                return -1;
            int jmp = emit(pg, OP_JMP);
            if (jmp < 0)
                return -1;
            pg->code[jmp].x = split;
            pg->code[split].y = pg->len;
            return 0;
        }
        /* Optional copies; each split may skip to the common end. */
        int optional = n->max - n->min;
        int *splits = optional ? malloc((size_t)optional * sizeof *splits) : NULL;
        if (optional && !splits) {
            if (!pg->error)
                pg->error = "out of memory";
            return -1;
        }
        int rc = 0;
        for (int i = 0; i < optional && rc == 0; i++) {
            splits[i] = emit(pg, OP_SPLIT);
            if (splits[i] < 0) {
                rc = -1;
                break;
            }
            pg->code[splits[i]].x = pg->len;
            rc = compile_node(pg, nodes, n->a);
        }
        if (rc == 0)
            for (int i = 0; i < optional; i++)
                pg->code[splits[i]].y = pg->len;
        free(splits);
        return rc;
    }
    }
    return -1;
}

/* A compiled pattern: the program and the character classes it refers to. The parse tree is
 * gone once the program is built. Nothing changes it after pattern_compile(), so matching
 * needs no lock and one compiled pattern may serve any number of matches. */
struct pattern {
    struct parser ps;
    struct program pg;
    /* For programs of at most BITSET_MAX instructions: per context (see closure_context) and
     * per pc, the set of consuming instructions and MATCH reachable from pc without input.
     * NULL for longer programs, which run on the general matcher. */
    uint64_t *closure;
    /* With closure: per ASCII byte, the consuming instructions that accept it, so a step over
     * an ASCII byte is one AND instead of a test per live thread. */
    uint64_t *ascii_accept;
    int contexts; /* 1 when the program has no anchors (the context never matters), else 4 */
};

/* Thread sets fit one 64-bit word up to this program length: every pattern of the IVS model
 * does, with room to spare. */
#define BITSET_MAX 64

/* Anchors make a closure depend on where it is taken: at the start, at the end, both, or
 * neither. */
static int closure_context(const struct pattern *c, size_t pos, size_t len)
{
    return c->contexts == 1 ? 0 : (pos == 0) | (pos == len) << 1;
}

static int class_matches_slow(const struct pattern *c, int cls, uint32_t cp);

/* Fills c->closure (c->pg.len <= BITSET_MAX); returns 0, or -1 when memory runs out. */
static int build_closures(struct pattern *c)
{
    int n = c->pg.len;
    const struct instr *code = c->pg.code;
    c->contexts = 1;
    for (int pc = 0; pc < n; pc++)
        if (code[pc].op == OP_BOL || code[pc].op == OP_EOL)
            c->contexts = 4;
    c->closure = malloc((size_t)c->contexts * (size_t)n * sizeof *c->closure);
    if (!c->closure)
        return -1;
    int stack[2 * BITSET_MAX + 2];
    for (int ctx = 0; ctx < c->contexts; ctx++) {
        int at_start = ctx & 1, at_end = ctx >> 1 & 1;
        for (int start = 0; start < n; start++) {
            uint64_t seen = 0, set = 0;
            int sp = 0;
            stack[sp++] = start;
            while (sp > 0) {
                int pc = stack[--sp];
                if (seen >> pc & 1)
                    continue;
                seen |= (uint64_t)1 << pc;
                switch (code[pc].op) {
                case OP_JMP: stack[sp++] = code[pc].x; break;
                case OP_SPLIT:
                    stack[sp++] = code[pc].y;
                    stack[sp++] = code[pc].x;
                    break;
                case OP_BOL:
                    if (at_start)
                        stack[sp++] = pc + 1;
                    break;
                case OP_EOL:
                    if (at_end)
                        stack[sp++] = pc + 1;
                    break;
                default: set |= (uint64_t)1 << pc; break;
                }
            }
            c->closure[ctx * n + start] = set;
        }
    }
    return 0;
}

static int class_matches(const struct pattern *c, int cls, uint32_t cp);

/* Whether the consuming instruction in accepts code point cp (the one test of both
 * matchers). */
static int instr_accepts(const struct pattern *c, const struct instr *in, int32_t cp)
{
    switch (in->op) {
    case OP_CHAR: return (uint32_t)cp == in->cp;
    case OP_ANY: return cp != '\n';
    case OP_CLASS: return class_matches(c, in->cls, (uint32_t)cp);
    default: return 0;
    }
}

/* Fills c->ascii_accept once the classes' ASCII bits are set; returns 0, or -1 when memory
 * runs out. */
static int build_ascii_accept(struct pattern *c)
{
    c->ascii_accept = calloc(128, sizeof *c->ascii_accept);
    if (!c->ascii_accept)
        return -1;
    for (int pc = 0; pc < c->pg.len; pc++)
        for (int32_t cp = 0; cp < 128; cp++)
            if (instr_accepts(c, &c->pg.code[pc], cp))
                c->ascii_accept[cp] |= (uint64_t)1 << pc;
    return 0;
}

void pattern_free(struct pattern *p)
{
    if (!p)
        return;
    free(p->ps.nodes);
    free(p->ps.items);
    free(p->ps.classes);
    free(p->pg.code);
    free(p->closure);
    free(p->ascii_accept);
    free(p);
}

int pattern_compile(const char *pattern, struct pattern **out, const char **why)
{
    *out = NULL;
    const char *reason = "out of memory";
    struct pattern *c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->ps.p = pattern;
    c->ps.end = pattern + strlen(pattern);
    int root = parse_alternation(&c->ps);
    if (root >= 0 && c->ps.p < c->ps.end)
        root = fail(&c->ps, "unbalanced parenthesis");
    if (root < 0) {
        reason = c->ps.error ? c->ps.error : "invalid pattern";
        goto fail;
    }
    if (compile_node(&c->pg, c->ps.nodes, root) || emit(&c->pg, OP_MATCH) < 0) {
        reason = c->pg.error ? c->pg.error : "invalid pattern";
        goto fail;
    }
    free(c->ps.nodes);
    c->ps.nodes = NULL;
    c->ps.node_count = c->ps.node_cap = 0;
    c->ps.p = c->ps.end = NULL; /* the text may not outlive the compiled form */
    if (c->pg.len <= BITSET_MAX && build_closures(c))
        goto fail;
    /* Subjects are mostly ASCII: answer those with one bit test instead of a walk over the
     * class's items. */
    for (int k = 0; k < c->ps.class_count; k++)
        for (uint32_t cp = 0; cp < 128; cp++)
            if (class_matches_slow(c, k, cp))
                c->ps.classes[k].ascii[cp >> 6] |= (uint64_t)1 << (cp & 63);
    if (c->closure && build_ascii_accept(c))
        goto fail;
    *out = c;
    if (why)
        *why = NULL;
    return 0;
fail:
    pattern_free(c);
    if (why)
        *why = reason;
    return -1;
}

int pattern_check(const char *pattern, const char **why)
{
    struct pattern *c;
    int rc = pattern_compile(pattern, &c, why);
    pattern_free(c);
    return rc;
}

/* ---- Running: Pike-style NFA simulation ------------------------------------------------- */

struct vm {
    const struct pattern *c;
    int *seen; /* generation stamp per pc */
    int *stack;
    int gen;
    size_t len;
    int matched;
};

static int class_matches_slow(const struct pattern *c, int cls, uint32_t cp)
{
    const struct char_class *k = &c->ps.classes[cls];
    int hit = 0;
    for (int i = 0; i < k->count && !hit; i++) {
        const struct class_item *it = &c->ps.items[k->first + i];
        if (it->category)
            hit = pattern_unicode_is(it->category, cp) != it->negated_category;
        else
            hit = cp >= it->lo && cp <= it->hi;
    }
    return hit != k->negated;
}

static int class_matches(const struct pattern *c, int cls, uint32_t cp)
{
    if (cp < 128)
        return (int)(c->ps.classes[cls].ascii[cp >> 6] >> (cp & 63) & 1);
    return class_matches_slow(c, cls, cp);
}

/* Adds pc and everything reachable from it without consuming input to the thread list. */
static void add_thread(struct vm *vm, int *list, int *count, int pc0, size_t pos)
{
    const struct instr *code = vm->c->pg.code;
    int sp = 0;
    vm->stack[sp++] = pc0;
    while (sp > 0) {
        int pc = vm->stack[--sp];
        if (vm->seen[pc] == vm->gen)
            continue;
        vm->seen[pc] = vm->gen;
        switch (code[pc].op) {
        case OP_JMP: vm->stack[sp++] = code[pc].x; break;
        case OP_SPLIT:
            vm->stack[sp++] = code[pc].y;
            vm->stack[sp++] = code[pc].x;
            break;
        case OP_BOL:
            if (pos == 0)
                vm->stack[sp++] = pc + 1;
            break;
        case OP_EOL:
            if (pos == vm->len)
                vm->stack[sp++] = pc + 1;
            break;
        case OP_MATCH: vm->matched = 1; break;
        default: list[(*count)++] = pc; break;
        }
    }
}

/* match_general() keeps its scratch space on the stack up to this program length and
 * allocates it beyond. */
#define SMALL_PROGRAM 128

/* After a match found at pos, the rest of the subject must still be valid UTF-8. */
static int rest_is_utf8(const char *s, size_t len, size_t pos)
{
    while (pos < len) {
        if ((unsigned char)s[pos] < 0x80)
            pos++;
        else if (pattern_utf8_next(s, len, &pos) < 0)
            return 0;
    }
    return 1;
}

/* The same simulation as match_general() with every thread set in one word: no stack, no
 * generation stamps, a closure is one table lookup. */
static int match_bitset(const struct pattern *c, const char *s, size_t len)
{
    const int n = c->pg.len;
    const uint64_t match_bit = (uint64_t)1 << (n - 1); /* OP_MATCH is always last */
    const struct instr *code = c->pg.code;
    uint64_t cur = c->closure[closure_context(c, 0, len) * n];
    size_t pos = 0;
    while (!(cur & match_bit) && pos < len) {
        size_t next = pos;
        int32_t cp = (unsigned char)s[pos];
        if (cp < 0x80)
            next++;
        else if ((cp = pattern_utf8_next(s, len, &next)) < 0)
            return 0;
        const uint64_t *closure = c->closure + closure_context(c, next, len) * n;
        /* Search semantics: a match may also start at the next position. */
        uint64_t nset = closure[0];
        if (cp < 0x80) {
            for (uint64_t m = cur & c->ascii_accept[cp]; m; m &= m - 1)
                nset |= closure[__builtin_ctzll(m) + 1];
        } else {
            for (uint64_t m = cur; m; m &= m - 1) {
                int pc = __builtin_ctzll(m);
                if (instr_accepts(c, &code[pc], cp))
                    nset |= closure[pc + 1];
            }
        }
        cur = nset;
        pos = next;
    }
    return (cur & match_bit) ? rest_is_utf8(s, len, pos) : 0;
}

/* The general Pike-style simulation, for programs too long for match_bitset(). */
static int match_general(const struct pattern *c, const char *s, size_t len)
{
    int n = c->pg.len;
    int small_seen[SMALL_PROGRAM], small_stack[2 * SMALL_PROGRAM + 2];
    int small_clist[SMALL_PROGRAM], small_nlist[SMALL_PROGRAM];
    struct vm vm = {c, small_seen, small_stack, 0, len, 0};
    int *clist = small_clist, *nlist = small_nlist;
    int heap = n > SMALL_PROGRAM;
    if (heap) {
        vm.seen = malloc((size_t)n * sizeof *vm.seen);
        /* Every pc is pushed at most once per incoming edge: two per instruction bounds it. */
        vm.stack = malloc((size_t)(2 * n + 2) * sizeof *vm.stack);
        clist = malloc((size_t)n * sizeof *clist);
        nlist = malloc((size_t)n * sizeof *nlist);
    }
    int *const owned[4] = {vm.seen, vm.stack, clist, nlist};
    int result = -1;
    if (!vm.seen || !vm.stack || !clist || !nlist)
        goto out;
    memset(vm.seen, 0, (size_t)n * sizeof *vm.seen);

    int ccount = 0;
    vm.gen = 1;
    add_thread(&vm, clist, &ccount, 0, 0);
    size_t pos = 0;
    while (!vm.matched && pos < len) {
        size_t next = pos;
        int32_t cp = pattern_utf8_next(s, len, &next);
        if (cp < 0) {
            result = 0;
            goto out;
        }
        int ncount = 0;
        vm.gen++;
        for (int i = 0; i < ccount; i++) {
            const struct instr *in = &c->pg.code[clist[i]];
            int ok = 0;
            switch (in->op) {
            case OP_CHAR: ok = (uint32_t)cp == in->cp; break;
            case OP_ANY: ok = cp != '\n'; break;
            case OP_CLASS: ok = class_matches(c, in->cls, (uint32_t)cp); break;
            default: break;
            }
            if (ok)
                add_thread(&vm, nlist, &ncount, clist[i] + 1, next);
        }
        /* Search semantics: a match may also start at the next position. */
        add_thread(&vm, nlist, &ncount, 0, next);
        int *t = clist;
        clist = nlist;
        nlist = t;
        ccount = ncount;
        pos = next;
    }
    result = vm.matched ? rest_is_utf8(s, len, pos) : 0;
out:
    if (heap)
        for (int i = 0; i < 4; i++)
            free(owned[i]);
    return result;
}

int pattern_match(const struct pattern *c, const char *s, size_t len)
{
    if (!c)
        return -1;
    return c->closure ? match_bitset(c, s, len) : match_general(c, s, len);
}

int pattern_search(const char *pattern, const char *s, size_t len)
{
    struct pattern *c;
    if (pattern_compile(pattern, &c, NULL))
        return -1;
    int result = pattern_match(c, s, len);
    pattern_free(c);
    return result;
}
